"""Reads of the audit pages: the change history and the access log, with their queries decided
once."""

from __future__ import annotations

from collections import defaultdict

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from pghistory.models import Events

from audit.models import AccessLog


def history_events(*, model: str = "", record: int | None = None) -> QuerySet:
    """Every change, newest first, without the before/after diff: pghistory computes diffs with
    a window function over whole event tables, which took seconds on the demo data; the diffs of
    the events on one page come from `history_diffs`. With a record (a primary key of `model`),
    that record's changes only, looked up in its own history table by its index."""
    events = Events.objects.order_by("-pgh_created_at", "-pgh_id").defer("pgh_diff", "pgh_data")
    if model and record is not None:
        try:
            tracked = apps.get_model(model)
        except (LookupError, ValueError):  # history of a model that is no more
            return events.none()
        # An unsaved instance names the record: a deleted one keeps its history.
        events = events.tracks(tracked(pk=record))
    if model:
        events = events.filter(pgh_obj_model=model)
    return events


def history_diffs(events) -> dict[str, dict]:
    """The diffs of the given events: one query per kind of record on the page, each limited to
    the records shown (PostgreSQL pushes that filter under the window function)."""
    objects_by_model: dict[str, set[str]] = defaultdict(set)
    for event in events:
        objects_by_model[event.pgh_obj_model].add(event.pgh_obj_id)
    diffs: dict[str, dict] = {}
    for model, object_ids in objects_by_model.items():
        rows = Events.objects.filter(pgh_obj_model=model, pgh_obj_id__in=object_ids)
        diffs.update(rows.values_list("pgh_slug", "pgh_diff"))
    return diffs


def history_models() -> list[str]:
    return sorted(Events.objects.values_list("pgh_obj_model", flat=True).distinct())


def usernames_by_id(ids: set) -> dict[str, str]:
    clean_ids = {int(value) for value in ids if str(value).isdigit()}
    return {
        str(pk): name
        for pk, name in get_user_model()
        .objects.filter(pk__in=clean_ids)
        .values_list("pk", "username")
    }


def access_log(*, action: str = "", username: str = "") -> QuerySet[AccessLog]:
    entries = AccessLog.objects.all()
    if action:
        entries = entries.filter(action=action)
    if username:
        entries = entries.filter(username__iexact=username)
    return entries
