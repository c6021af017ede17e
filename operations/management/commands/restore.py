"""Restores a database backup, joined with a keyring, into an empty database, with its private
files. See operations/backups/ and docs/backups.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations import backups


class Command(BaseCommand):
    help = (
        "Restore a database backup into the (empty) database of DATABASE_URL and its private "
        "files into HAVEN_PRIVATE_FILES_ROOT, with the newest keyring of HAVEN_BACKUP_DIR that "
        "is not older than it, or the one given with --keyring."
    )
    # The target database is empty: nothing to check against it yet.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A database-<time>.hvb backup.")
        parser.add_argument(
            "--keyring",
            metavar="FILE",
            help="The keyring-<time>.hvb to use (default: the newest in HAVEN_BACKUP_DIR).",
        )

    def handle(self, *args: Any, file: str, keyring: str | None, **options: Any) -> None:
        try:
            summary = backups.restore_backup(
                Path(file), keyring_path=Path(keyring) if keyring else None
            )
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        for line in summary.describe():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                "Done. Start Haven with the same HAVEN_FIELD_KEYS as when the keyring was "
                "written, and run `python manage.py migrate` if this version is newer."
            )
        )
