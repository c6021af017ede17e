"""Prints fresh keys for HAVEN_FIELD_KEYS and HAVEN_BLIND_INDEX_KEY; stores them nowhere."""

from __future__ import annotations

import secrets
from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Print a new master key (for HAVEN_FIELD_KEYS) and a new blind-index key "
        "(for HAVEN_BLIND_INDEX_KEY). Nothing is written to disk or to the database."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"HAVEN_FIELD_KEYS master key: {Fernet.generate_key().decode('ascii')}")
        self.stdout.write(f"HAVEN_BLIND_INDEX_KEY: {secrets.token_urlsafe(48)}")
        self.stdout.write(f"HAVEN_BACKUP_KEYS backup key: {Fernet.generate_key().decode('ascii')}")
        self.stdout.write(
            "To rotate: put the new master key first in HAVEN_FIELD_KEYS, keep the old keys "
            "after it, deploy, run `manage.py rotate_keys`, then remove the old keys; after "
            "replacing HAVEN_BLIND_INDEX_KEY run `manage.py rotate_keys --blind-indexes` at once "
            "(look-ups find nothing until it has finished)."
        )
