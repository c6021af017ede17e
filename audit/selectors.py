"""Reads of the audit pages: the change history and the access log, with their queries decided
once."""

from __future__ import annotations

import datetime
import json
import re
from collections import defaultdict
from dataclasses import dataclass

import pghistory.core
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import QuerySet
from django.db.models.fields.json import KT
from pghistory.models import Context

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


@dataclass(frozen=True, order=True)
class HistoryCursor:
    """A place in the audit trail: the event it points at, in the trail's one order (newest
    first: time, then event table, then the event's number within its table; events written by
    one transaction share their time)."""

    created_at: datetime.datetime
    event_model: str  # the event model's label ("payments.PaymentEvent")
    pgh_id: int

    @property
    def token(self) -> str:
        return f"{self.created_at.isoformat()}~{self.event_model}~{self.pgh_id}"

    @classmethod
    def parse(cls, text: str) -> HistoryCursor | None:
        """The cursor a page link carried, or None for anything else (the first page then)."""
        parts = (text or "").split("~")
        if len(parts) != 3 or parts[1] not in _event_models_by_label():
            return None
        try:
            moment = datetime.datetime.fromisoformat(parts[0])
        except ValueError:
            return None
        if moment.tzinfo is None or not RECORD_ID.fullmatch(parts[2]):
            return None
        return cls(created_at=moment, event_model=parts[1], pgh_id=int(parts[2]))


@dataclass
class HistoryEvent:
    """One change, as the audit trail shows it (pghistory's aggregate event's names)."""

    event_model: str
    pgh_id: int
    pgh_created_at: datetime.datetime
    pgh_label: str
    pgh_obj_model: str
    pgh_obj_id: str
    pgh_context: dict | None = None
    # Field by [before, after] against the record's previous event, as pghistory diffs.
    pgh_diff: dict | None = None

    @property
    def pgh_slug(self) -> str:
        return f"{self.event_model}:{self.pgh_id}"

    @property
    def cursor(self) -> HistoryCursor:
        return HistoryCursor(self.pgh_created_at, self.event_model, self.pgh_id)


@dataclass(frozen=True)
class HistoryPage:
    """A page of the trail and where the pages beside it start (None: there is none)."""

    events: list[HistoryEvent]
    newer: HistoryCursor | None  # the page before this one starts after this event
    older: HistoryCursor | None  # the page after this one starts after this event


# Up to 18 digits: any bigint, nothing PostgreSQL would refuse.
RECORD_ID = re.compile(r"[0-9]{1,18}")


def _event_models_by_label() -> dict[str, type]:
    return {model._meta.label: model for model in pghistory.core.event_models()}


def _event_selects(filters: HistoryFilters) -> list[tuple[type, list[str], list]]:
    """For each event table the filters leave, its conditions and their parameters. Each
    condition is one its indexes answer: (pgh_created_at, pgh_id), the record, the context, the
    case."""
    actor_contexts = None
    if filters.actor_id is not None:
        # The person's contexts first (audit's migration 0006 indexes them by person), then
        # their events by the contexts' index: given the values, PostgreSQL can weigh reading a
        # table's newest events against looking up the person's.
        actor_contexts = list(
            Context.objects.annotate(user=KT("metadata__user"))
            .filter(user=str(filters.actor_id))
            .values_list("id", flat=True)
        )
        if not actor_contexts:
            return []
    selects = []
    for event_model in _event_models_by_label().values():
        tracked = event_model.pgh_tracked_model._meta.label
        columns = {field.column for field in event_model._meta.concrete_fields}
        if filters.model and tracked != filters.model:
            continue
        if "pgh_obj_id" not in columns:
            continue
        where: list[str] = []
        params: list = []
        if filters.record is not None:
            where.append("e.pgh_obj_id = %s")
            params.append(filters.record)
        if filters.case_id is not None:
            # The case's own record, and every record that belongs to it (a "case" field).
            if tracked == CASE_MODEL:
                where.append("e.pgh_obj_id = %s")
            elif "case_id" in columns:
                where.append("e.case_id = %s")
            else:
                continue
            params.append(filters.case_id)
        if actor_contexts is not None:
            where.append("e.pgh_context_id = ANY(%s)")
            params.append(actor_contexts)
        if filters.start is not None:
            where.append("e.pgh_created_at >= %s")
            params.append(filters.start)
        if filters.end is not None:
            where.append("e.pgh_created_at < %s")
            params.append(filters.end)
        if filters.label:
            where.append("e.pgh_label = %s")
            params.append(filters.label)
        selects.append((event_model, where, params))
    return selects


def _keyset(event_model: type, cursor: HistoryCursor, *, older: bool) -> tuple[str, list]:
    """The events of one table beyond `cursor` in the trail's order. Within a table the order
    is (pgh_created_at, pgh_id); between tables at the same moment, the event model's label."""
    label = event_model._meta.label
    direction = "<" if older else ">"
    if label == cursor.event_model:
        return f"(e.pgh_created_at, e.pgh_id) {direction} (%s, %s)", [
            cursor.created_at,
            cursor.pgh_id,
        ]
    # At the cursor's moment, a table before the cursor's (by label) comes after it, newest first.
    same_moment_beyond = (label < cursor.event_model) == older
    operator = direction + ("=" if same_moment_beyond else "")
    return f"e.pgh_created_at {operator} %s", [cursor.created_at]


def history_page(
    *,
    filters: HistoryFilters,
    before: HistoryCursor | None = None,
    after: HistoryCursor | None = None,
    size: int = 50,
) -> HistoryPage:
    """A page of every change, newest first: `size` events older than `before`, or newer than
    `after`, or the newest. Each event table is read on its own index, newest first (or oldest
    first for a newer page), as far as the page needs (LIMIT), and PostgreSQL merges the tables'
    few rows: no union of every event, no OFFSET, so a page costs the same on the millionth
    event as on the first. One query; the diffs and contexts of the page's events come from a
    second (`_with_details`). No total: counting a million events would cost what the page
    saves."""
    older = after is None
    cursor = before if older else after
    order = "DESC" if older else "ASC"
    parts, params = [], []
    for event_model, where, where_params in _event_selects(filters):
        conditions, values = list(where), list(where_params)
        if cursor is not None:
            condition, condition_params = _keyset(event_model, cursor, older=older)
            conditions.append(condition)
            values += condition_params
        parts.append(
            # Names of the models' tables and fixed fragments; every value is a parameter.
            f"(SELECT %s AS event_model, %s AS obj_model, e.pgh_id, e.pgh_created_at,"  # noqa: S608
            f" e.pgh_label, e.pgh_obj_id::text AS pgh_obj_id"
            f" FROM {_quote(event_model._meta.db_table)} e"
            + (f" WHERE {' AND '.join(conditions)}" if conditions else "")
            + f" ORDER BY e.pgh_created_at {order}, e.pgh_id {order} LIMIT %s)"
        )
        params += [
            event_model._meta.label,
            event_model.pgh_tracked_model._meta.label,
            *values,
            size + 1,
        ]
    if not parts:
        return HistoryPage(events=[], newer=None, older=None)
    # Labels compared byte by byte, as Python compares them in `_keyset`.
    sql = (
        f"SELECT * FROM ({' UNION ALL '.join(parts)}) events"  # noqa: S608
        f' ORDER BY pgh_created_at {order}, event_model COLLATE "C" {order}, pgh_id {order}'
        " LIMIT %s"
    )
    with connection.cursor() as db:
        db.execute(sql, [*params, size + 1])
        rows = db.fetchall()
    more = len(rows) > size
    events = [
        HistoryEvent(
            event_model=event_model,
            pgh_obj_model=obj_model,
            pgh_id=pgh_id,
            pgh_created_at=created_at,
            pgh_label=label,
            pgh_obj_id=obj_id,
        )
        for event_model, obj_model, pgh_id, created_at, label, obj_id in rows[:size]
    ]
    if not older:
        events.reverse()
    _with_details(events)
    if not events:
        return HistoryPage(events=[], newer=None, older=None)
    if older:
        has_newer, has_older = before is not None, more
    else:
        has_newer, has_older = more, True
    return HistoryPage(
        events=events,
        newer=events[0].cursor if has_newer else None,
        older=events[-1].cursor if has_older else None,
    )


def _with_details(events: list[HistoryEvent]) -> None:
    """Fills the events' contexts and diffs (against each record's previous event in its own
    table, as pghistory computes them): one query for the page, by primary keys."""
    by_table: dict[str, list[int]] = defaultdict(list)
    for event in events:
        by_table[event.event_model].append(event.pgh_id)
    if not by_table:
        return
    event_models = _event_models_by_label()
    context_table = _quote(Context._meta.db_table)
    parts, params = [], []
    for label, ids in by_table.items():
        table = _quote(event_models[label]._meta.db_table)
        parts.append(
            f"SELECT %s, e.pgh_id, row_to_json(e)::jsonb,"  # noqa: S608 (tables' names)
            f" (SELECT row_to_json(previous)::jsonb FROM {table} previous"
            f"  WHERE previous.pgh_obj_id = e.pgh_obj_id AND previous.pgh_id < e.pgh_id"
            f"  ORDER BY previous.pgh_id DESC LIMIT 1),"
            f" context.metadata"
            f" FROM {table} e LEFT JOIN {context_table} context ON context.id = e.pgh_context_id"
            f" WHERE e.pgh_id = ANY(%s)"
        )
        params += [label, ids]
    with connection.cursor() as db:
        db.execute(" UNION ALL ".join(parts), params)
        details = {(row[0], row[1]): row[2:] for row in db.fetchall()}
    for event in events:
        data, previous, context = (
            _json(value) for value in details.get((event.event_model, event.pgh_id), (None,) * 3)
        )
        event.pgh_context = context
        event.pgh_diff = _diff(previous, data)


def _json(value):
    return json.loads(value) if isinstance(value, str | bytes) else value


def _diff(previous: dict | None, current: dict | None) -> dict | None:
    """pghistory's diff: the fields whose value differs from the previous event's."""
    if not previous or not current:
        return None
    return {
        field: [previous[field], value]
        for field, value in current.items()
        if not field.startswith("pgh_") and field in previous and previous[field] != value
    } or None


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


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


def history_models() -> list[str]:
    """Every kind of record under the change history (from the code, not from the events: a
    DISTINCT over every event table would read them all)."""
    return sorted(
        {model.pgh_tracked_model._meta.label for model in _event_models_by_label().values()}
    )


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
