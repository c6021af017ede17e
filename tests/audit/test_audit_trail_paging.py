"""The audit trail at scale reads each history table on its own index and pages by the last event
shown (newest first: time, then table, then number), not by an offset over a union of every
table: paging must neither skip nor repeat an event, also where many events share one moment
(one transaction writes them all at the same time) or a page ends between two tables."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from accounts.roles import Role
from audit.selectors import HistoryCursor, HistoryFilters, history_page
from audit.services import audit_context
from cases.models import Case
from tests.factories import FamilyMemberFactory, VerifiedCaseFactory

pytestmark = pytest.mark.django_db

AUDIT = "/accounts/audit/"
HOUR = datetime.timedelta(hours=1)
CASE_EVENT = "cases.CaseEvent"
FAMILY_EVENT = "cases.FamilyMemberEvent"


def copy_event(event_label: str, pgh_id: int, *, at: datetime.datetime, label: str = "") -> int:
    """A copy of a history event written at another moment (history is append-only: an event's
    time cannot be changed, and a test's events all share its transaction's moment)."""
    model = apps.get_model(event_label)
    columns = [field.column for field in model._meta.concrete_fields if field.column != "pgh_id"]
    chosen = {"pgh_created_at": "%s", "pgh_label": "COALESCE(NULLIF(%s, ''), pgh_label)"}
    values = [chosen.get(column, connection.ops.quote_name(column)) for column in columns]
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    parameters = [
        at if column == "pgh_created_at" else label for column in columns if column in chosen
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({names})"  # noqa: S608
            f" SELECT {', '.join(values)} FROM {model._meta.db_table} WHERE pgh_id = %s"
            " RETURNING pgh_id",
            [*parameters, pgh_id],
        )
        return cursor.fetchone()[0]


def last_event(event_label: str, record) -> int:
    model = apps.get_model(event_label)
    return model.objects.filter(pgh_obj_id=record.pk).order_by("pgh_id").last().pgh_id


def slugs(events) -> list[str]:
    return [event.pgh_slug for event in events]


def walk_older(filters: HistoryFilters, size: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = history_page(filters=filters, before=cursor, size=size)
        pages.append(slugs(page.events))
        if page.older is None:
            return pages
        cursor = page.older


def test_paging_through_one_moment_in_two_tables_skips_and_repeats_nothing():
    for _number in range(4):
        FamilyMemberFactory()  # a case and a family member: two tables, one moment
    everything = history_page(filters=HistoryFilters(), size=1000)
    assert everything.older is None and everything.newer is None
    assert len({event.pgh_created_at for event in everything.events}) == 1
    tables = [event.event_model for event in everything.events]
    assert {CASE_EVENT, FAMILY_EVENT} <= set(tables)
    # Newest first: at one moment, by table, then by number.
    keys = [(event.event_model, event.pgh_id) for event in everything.events]
    assert keys == sorted(keys, reverse=True)

    pages = walk_older(HistoryFilters(), size=3)
    assert [slug for page in pages for slug in page] == slugs(everything.events)
    assert all(len(page) == 3 for page in pages[:-1])
    # A page that holds the end of one table's events and the start of another's.
    assert any(
        {slug.split(":")[0] for slug in page} == {CASE_EVENT, FAMILY_EVENT} for page in pages
    )

    # And back, newer page by newer page, from the oldest: the same pages.
    page = history_page(filters=HistoryFilters(), after=everything.events[-1].cursor, size=3)
    back = [slugs(page.events)]
    while page.newer is not None:
        page = history_page(filters=HistoryFilters(), after=page.newer, size=3)
        back.append(slugs(page.events))
    assert [slug for page in reversed(back) for slug in page] == slugs(everything.events)[:-1]


def test_a_record_between_two_tables_events_is_found_alone_and_in_its_place():
    member = FamilyMemberFactory()
    case = member.case
    now = timezone.now()
    created = copy_event(CASE_EVENT, last_event(CASE_EVENT, case), at=now - 3 * HOUR)
    joined = copy_event(FAMILY_EVENT, last_event(FAMILY_EVENT, member), at=now - 2 * HOUR)
    changed = copy_event(CASE_EVENT, last_event(CASE_EVENT, case), at=now - HOUR, label="update")
    earlier = HistoryFilters(end=now - HOUR / 2)

    trail = history_page(filters=earlier, size=50).events
    assert slugs(trail) == [
        f"{CASE_EVENT}:{changed}",
        f"{FAMILY_EVENT}:{joined}",
        f"{CASE_EVENT}:{created}",
    ]
    assert walk_older(earlier, size=1) == [[slug] for slug in slugs(trail)]

    the_case = HistoryFilters(model="cases.Case", record=case.pk, end=now - HOUR / 2)
    assert slugs(history_page(filters=the_case).events) == [
        f"{CASE_EVENT}:{changed}",
        f"{CASE_EVENT}:{created}",
    ]
    # The case filter follows the case's own record and the records that belong to it.
    by_case = HistoryFilters(case_id=case.pk, end=now - HOUR / 2)
    assert slugs(history_page(filters=by_case).events) == slugs(trail)
    other = FamilyMemberFactory()
    assert slugs(history_page(filters=HistoryFilters(case_id=other.case.pk)).events) == [
        f"{FAMILY_EVENT}:{last_event(FAMILY_EVENT, other)}",
        f"{CASE_EVENT}:{last_event(CASE_EVENT, other.case)}",
    ]


def test_filters_combined_person_case_action_and_dates(make_staff, login, auditor):
    first_officer = make_staff(Role.CASE_MANAGER, username="manager-aye")
    second_officer = make_staff(Role.CASE_MANAGER, username="manager-thida")
    with audit_context(actor=first_officer):
        case, other = VerifiedCaseFactory(), VerifiedCaseFactory()
        Case.objects.filter(pk=case.pk).update(risk_level="high")
    with audit_context(actor=second_officer):
        Case.objects.filter(pk__in=[case.pk, other.pk]).update(risk_level="critical")
    theirs = last_event(CASE_EVENT, case)
    yesterday = copy_event(CASE_EVENT, theirs, at=timezone.now() - 24 * HOUR)

    combined = HistoryFilters(actor_id=second_officer.pk, case_id=case.pk, label="update")
    events = history_page(filters=combined).events
    assert slugs(events) == [f"{CASE_EVENT}:{theirs}", f"{CASE_EVENT}:{yesterday}"]
    assert events[0].pgh_diff == {"risk_level": ["high", "critical"]}
    assert events[0].pgh_context["user"] == second_officer.pk

    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    assert slugs(
        history_page(filters=HistoryFilters(**{**combined.__dict__, "start": today})).events
    ) == [f"{CASE_EVENT}:{theirs}"]
    assert slugs(
        history_page(filters=HistoryFilters(**{**combined.__dict__, "end": today})).events
    ) == [f"{CASE_EVENT}:{yesterday}"]
    # Someone who changed nothing: nothing, not everything.
    idle = make_staff(Role.CASE_MANAGER)
    assert history_page(filters=HistoryFilters(actor_id=idle.pk)).events == []

    # The same through the page.
    page = login(auditor).get(
        AUDIT,
        {
            "who": "manager-thida",
            "case": case.code,
            "action": "update",
            "start": f"{today:%Y-%m-%d}",
        },
    )
    rows = page.content.decode().split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 1
    assert "Critical" in rows or "critical" in rows


def test_older_and_newer_links_keep_the_filters_and_a_forged_cursor_shows_the_newest(
    login, auditor
):
    VerifiedCaseFactory.create_batch(55)
    client = login(auditor)
    first = client.get(AUDIT, {"action": "insert", "model": "cases.Case"}).content.decode()
    assert "Newer" not in first and "Newest" not in first
    older = first.split('rel="next" href="?')[1].split('"')[0].replace("&amp;", "&")
    assert older.startswith("action=insert&model=cases.Case&before=")
    second = client.get(f"{AUDIT}?{older}").content.decode()
    assert "Newer" in second and "Newest" in second and 'rel="next"' not in second
    first_rows = first.split("<tbody>")[1].split("</tbody>")[0]
    second_rows = second.split("<tbody>")[1].split("</tbody>")[0]
    assert first_rows.count("<tr>") == 50 and second_rows.count("<tr>") == 5

    for forged in (
        "x",
        "2026-01-01~nobody.Event~1",
        "2026-01-01T00:00:00~cases.CaseEvent~1e9",
        "\x00",
    ):
        response = client.get(AUDIT, {"action": "insert", "model": "cases.Case", "before": forged})
        assert response.status_code == 200
        assert response.content.decode().split("<tbody>")[1].split("</tbody>")[0] == first_rows


def test_a_cursor_names_its_event_and_nothing_else():
    moment = timezone.now()
    cursor = HistoryCursor(moment, CASE_EVENT, 12)
    assert HistoryCursor.parse(cursor.token) == cursor
    assert HistoryCursor.parse(f"{moment.replace(tzinfo=None).isoformat()}~{CASE_EVENT}~12") is None
    assert HistoryCursor.parse(f"{moment.isoformat()}~{CASE_EVENT}~-1") is None
    assert HistoryCursor.parse(f"{moment.isoformat()}~{CASE_EVENT}~{'9' * 19}") is None
