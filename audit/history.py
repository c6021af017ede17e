"""One way to put a model under the change history (django-pghistory, database triggers)."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable
from typing import Any

import pghistory
from django.apps import apps
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from protection.keys import CIPHERTEXT_PREFIX
from protection.masks import MASK


def track_history(*, per_statement: bool = False, **options: Any):
    """Record every insert, update and delete of the model, with the request's or task's actor.

    `per_statement`: for tables written in bulk (a month's payment lines), the history is written
    by one INSERT … SELECT per SQL statement over its transition table (pghistory's statement-
    level triggers) instead of one trigger call per row: the same events with the same context,
    at a fraction of the cost. Its history table then indexes only what the audit pages look
    events up by (the record, the context and the case; the time and the action, as every
    history table), not every copied foreign key: each index is paid for on every line of every
    run. Trackers hold per-model state, so each model gets fresh ones.
    """
    if not per_statement:
        return _track(**options)

    def track_in_bulk(model: type[models.Model]) -> type[models.Model]:
        unindexed = {
            field.name: _unindexed_copy(field)
            for field in model._meta.local_concrete_fields
            # The case stays indexed: the audit trail's case filter looks events up by it.
            if isinstance(field, models.ForeignKey) and field.name != "case"
        }
        return _track(level=pghistory.Statement, attrs=unindexed, **options)(model)

    return track_in_bulk


def _track(**options: Any):
    # The audit trail reads each history table newest first, a page at a time, on these indexes
    # (audit.selectors.history_page): all events, or those of one action (a filter on "Deleted"
    # would otherwise walk a million creations to find none). Django names them.
    meta = {
        "indexes": [
            models.Index(fields=["pgh_created_at", "pgh_id"]),
            models.Index(fields=["pgh_label", "pgh_created_at", "pgh_id"]),
        ]
    }
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        meta=meta,
        **options,
    )


def _unindexed_copy(field: models.ForeignKey) -> models.ForeignKey:
    """A history table's copy of a foreign key, as pghistory makes it (no database constraint,
    no reverse accessor), without an index."""
    field = copy.copy(field)
    # As pghistory does: a swappable key (to the user model) asks the app registry, not ready yet.
    field.swappable = False
    _, _, args, kwargs = field.deconstruct()
    kwargs.update(
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        related_query_name="+",
    )
    return models.ForeignKey(*args, **kwargs)


# How the audit trail names a record of a model ("Payment HV-2026-00023, 2026-12"): registered by
# the model's app in its AppConfig.ready(), so that the platform knows no domain app. A record of
# a model without one that belongs to a case is named by the case's code (audit/selectors.py).
HISTORY_LABELS: dict[str, tuple[Callable[[Any], str], tuple[str, ...]]] = {}


def register_history_label(
    model_label: str, *, label: Callable[[Any], str], related: tuple[str, ...] = ()
) -> None:
    """`label(record)` names a record; `related` is what it reads (select_related), so that a
    page of the trail costs one query per kind of record. Never a protected value."""
    HISTORY_LABELS[model_label] = (label, related)


# pghistory's event labels, as a reader says them.
EVENT_LABELS = {
    "insert": gettext_lazy("Created"),
    "update": gettext_lazy("Changed"),
    "delete": gettext_lazy("Deleted"),
}


def event_label(label: str) -> str:
    return str(EVENT_LABELS.get(label, label))


# Actions of audit_context (e.g. "payments.run") by the name readers know them by; each app
# registers its own in AppConfig.ready().
_CONTEXT_ACTIONS: dict[str, Any] = {}


def register_context_action(action: str, label: Any) -> None:
    _CONTEXT_ACTIONS[action] = label


def run_of(metadata: dict | None) -> str:
    """The id of the run (a task's) that made a change, or ""."""
    run = (metadata or {}).get("run")
    return str(run) if run else ""


def describe_context(metadata: dict | None) -> str:
    """What a change's context says besides who: the registered action, its month, which run
    (the start of its id) and which schedule started it. Only these keys are shown."""
    metadata = metadata or {}
    parts = []
    if label := _CONTEXT_ACTIONS.get(str(metadata.get("action", ""))):
        parts.append(str(label))
    if month := metadata.get("period"):
        parts.append(_("month %(month)s") % {"month": month})
    if run := run_of(metadata):
        parts.append(_("run %(run)s") % {"run": run[:8]})
    if schedule := metadata.get("schedule"):
        parts.append(_("started by the schedule “%(schedule)s”") % {"schedule": schedule})
    return ", ".join(parts)


def record_type_label(model_label: str) -> str:
    """A tracked model ("cases.Case") by the name staff know it by ("Case")."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return model_label
    return capfirst(model._meta.verbose_name)


def field_labels(model_label: str) -> dict[str, str]:
    """Column names ("decided_by_id") of a tracked model by their labels ("Decided by")."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return {}
    return {field.attname: capfirst(field.verbose_name) for field in model._meta.concrete_fields}


def foreign_keys(model_label: str) -> dict[str, str]:
    """Column names of a tracked model's foreign keys ("decided_by_id") by the label of the model
    they point to ("accounts.User"), so that a change reads as a name, not as a number."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return {}
    return {
        field.attname: field.related_model._meta.label
        for field in model._meta.concrete_fields
        if field.many_to_one and field.related_model is not None
    }


def _field(model_label: str, attname: str) -> models.Field | None:
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return None
    return next((each for each in model._meta.concrete_fields if each.attname == attname), None)


def format_history_value(model_label: str, field: str, text: str) -> str:
    """A history value for the audit trail: coarse fields coarsened, then as readable_value."""
    coarse = coarsen(model_label, field, text)
    if coarse != text or not text:
        return coarse
    return readable_value(_field(model_label, field), text)


def readable_value(field: models.Field | None, text: str) -> str:
    """A history value as the rest of Haven writes it: a choice's label, yes or no, dates and
    times in the language's one format and in local time (the database keeps UTC). An empty or
    encrypted value, and a value of a field unknown, as it is. The audit trail and a case's
    history both write values so; each names the people and records a value points to."""
    if not text or field is None or text == display_history_value(CIPHERTEXT_PREFIX):
        return text
    if field.choices:
        return str(dict(field.flatchoices).get(text, text))
    if isinstance(field, models.BooleanField):
        return _("yes") if text == "True" else _("no") if text == "False" else text
    if isinstance(field, models.DateTimeField):
        moment = parse_datetime(str(text))
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, datetime.UTC)
            return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    elif isinstance(field, models.DateField):
        day = parse_date(str(text)[:10])
        if day is not None:
            return formats.date_format(day, "DATE_FORMAT")
    return text


def coarsen(model_label: str, field: str, text: str) -> str:
    """A history value of a field its model declares coarse (`COARSE_FIELDS`): a date as its
    month, anything else masked; other fields as they are."""
    if not text:
        return text
    try:
        how = getattr(apps.get_model(model_label), "COARSE_FIELDS", {}).get(field)
    except (LookupError, ValueError):
        return text
    if how == "month" and (day := parse_date(str(text)[:10])):
        return formats.date_format(day, "YEAR_MONTH_FORMAT")
    if how is not None:
        return MASK
    return text


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
