"""One way to put a model under the change history (django-pghistory, database triggers)."""

from __future__ import annotations

from typing import Any

import pghistory
from django.utils.translation import gettext as _

from accounts.crypto import CIPHERTEXT_PREFIX


def track_history(**options: Any):
    """Record every insert, update and delete of the model, with the request's or task's actor.

    Trackers hold per-model state, so each model gets fresh ones.
    """
    return pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), **options
    )


def describe_changes(diff: dict | None) -> list[tuple[str, str, str]]:
    """Before/after per field of a history event; encrypted values show as such, never as
    ciphertext."""
    if not diff:
        return []
    return [
        (field, display_history_value(before), display_history_value(after))
        for field, (before, after) in sorted(diff.items())
    ]


def display_history_value(value: object) -> str:
    if isinstance(value, str) and value.startswith(CIPHERTEXT_PREFIX):
        return _("(encrypted value)")
    return "" if value is None else str(value)
