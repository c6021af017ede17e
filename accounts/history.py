"""One way to put a model under the change history (django-pghistory, database triggers)."""

from __future__ import annotations

from typing import Any

import pghistory


def track_history(**options: Any):
    """Record every insert, update and delete of the model, with the request's or task's actor.

    Trackers hold per-model state, so each model gets fresh ones.
    """
    return pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), **options
    )
