"""Reads of the audit pages: the change history and the access log, with their queries decided
once."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet
from pghistory.models import Events

from audit.history import HISTORY_LABELS
from audit.models import AccessLog

# The records a case filter follows: the case's own, and those whose "case" field points to it.
# A label, not an import: the platform imports no domain app.
CASE_MODEL = "cases.Case"


@dataclass(frozen=True)
class HistoryFilters:
    """What the audit trail is narrowed to; empty values filter nothing."""

    model: str = ""
    # A record (a primary key of `model`): its changes only, from its own history table.
    record: int | None = None
    actor_id: int | None = None
    # A case: its own record and every record that belongs to it (a "case" field).
    case_id: int | None = None
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None  # exclusive
    label: str = ""  # insert, update or delete


def history_events(
    *, filters: HistoryFilters | None = None, model: str = "", record: int | None = None
) -> QuerySet:
    """Every change, newest first, without the before/after diff: pghistory computes diffs with
    a window function over whole event tables, which took seconds on the demo data; the diffs of
    the events on one page come from `history_diffs`. With a record (a primary key of the
    model), that record's changes only, looked up in its own history table by its index."""
    filters = filters or HistoryFilters(model=model, record=record)
    events = Events.objects.order_by("-pgh_created_at", "-pgh_id").defer("pgh_diff", "pgh_data")
    if filters.model and filters.record is not None:
        try:
            tracked = apps.get_model(filters.model)
        except (LookupError, ValueError):  # history of a model that is no more
            return events.none()
        # An unsaved instance names the record: a deleted one keeps its history.
        events = events.tracks(tracked(pk=filters.record))
    if filters.model:
        events = events.filter(pgh_obj_model=filters.model)
    if filters.actor_id is not None:
        events = events.filter(pgh_context__user=filters.actor_id)
    if filters.case_id is not None:
        case_model = CASE_MODEL
        events = events.filter(
            Q(pgh_obj_model=case_model, pgh_obj_id=str(filters.case_id))
            | Q(pgh_data__case_id=filters.case_id)
        )
    if filters.start is not None:
        events = events.filter(pgh_created_at__gte=filters.start)
    if filters.end is not None:
        events = events.filter(pgh_created_at__lt=filters.end)
    if filters.label:
        events = events.filter(pgh_label=filters.label)
    return events


def case_pk_by_code(code: str) -> int | None:
    """The case with this code (any letter case), or None."""
    model = apps.get_model(CASE_MODEL)
    return model._base_manager.filter(code__iexact=code).values_list("pk", flat=True).first()


def staff_pk_by_username(username: str) -> int | None:
    return (
        get_user_model()
        .objects.filter(username__iexact=username)
        .values_list("pk", flat=True)
        .first()
    )


def record_labels(references: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Readable labels of records, by (model label, primary key): a member of staff by name, a
    record as its app registered (audit/history.py: a payment "HV-2026-00023, 2026-12"), a
    record of a case by the case's code. One query per kind of record; a deleted record has no
    label. Never a protected value: only what a registered label or a case's code says."""
    by_model: dict[str, set[int]] = defaultdict(set)
    for model_label, pk in references:
        if str(pk).isascii() and str(pk).isdigit():
            by_model[model_label].add(int(pk))
    labels: dict[tuple[str, str], str] = {}
    user_model = get_user_model()
    for model_label, pks in by_model.items():
        try:
            model = apps.get_model(model_label)
        except (LookupError, ValueError):
            continue
        rows = model._base_manager.filter(pk__in=pks)
        if model is user_model:
            for user in rows.only("pk", "username", "first_name", "last_name"):
                labels[(model_label, str(user.pk))] = user.get_full_name() or user.get_username()
            continue
        label, related = HISTORY_LABELS.get(model_label, (None, ()))
        if label is None:
            if not _has_case(model):
                continue
            label, related = (lambda row: str(row.case)), ("case",)
        for row in rows.select_related(*related):
            labels[(model_label, str(row.pk))] = label(row)
    return labels


def _has_case(model) -> bool:
    try:
        field = model._meta.get_field("case")
    except FieldDoesNotExist:
        return False
    return field.many_to_one and field.related_model._meta.label == CASE_MODEL


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
