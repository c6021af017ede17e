"""Journey reports against a small fixture whose every figure is computed by hand (in the
comments), the CSV of codes only, and who may see and export them."""

from __future__ import annotations

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from accounts.roles import Role
from audit.models import AccessLog
from journeys import selectors, services
from journeys.models import CheckIn, Debrief, Escalation, Journey, JourneyStatus
from tests.factories import CaseFactory
from tests.journeys.conftest import plan_arguments

pytestmark = pytest.mark.django_db

YANGON = ZoneInfo("Asia/Yangon")
START, END = datetime.date(2026, 9, 1), datetime.date(2026, 11, 30)


def at(month: int, day: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, tzinfo=YANGON)


def journey_of(case, coordinator, lead, backup, *, created, ended=None, status="active"):
    journey = services.journey_plan(**plan_arguments(case, coordinator, lead, backup))
    Journey.objects.filter(pk=journey.pk).update(created_at=created, ended_at=ended, status=status)
    return Journey.objects.get(pk=journey.pk)


def escalate(journey, steps, *, when, closed_reason=""):
    window = journey.windows.order_by("due_at").first()
    for step in steps:
        Escalation.objects.create(
            journey=journey,
            window=window,
            step=step,
            at=when + datetime.timedelta(minutes=30 * step),
            closed_at=when + datetime.timedelta(hours=5) if closed_reason else None,
            closed_reason=closed_reason,
        )


@pytest.fixture
def world(coordinator, lead, backup):
    def case(**fields):
        return CaseFactory(intake_officer=backup, case_manager=lead, **fields)

    a = case(region="bago", channel="phone", contact_date=datetime.date(2026, 9, 5))
    b = case(region="bago", channel="in_person", contact_date=datetime.date(2026, 8, 20))
    c = case(region="chin", channel="phone", contact_date=datetime.date(2026, 10, 2))
    case(region="chin", channel="phone", contact_date=datetime.date(2026, 11, 15))
    # A: planned 10 Sep, arrived 20 Sep: 0 months after first contact in September. One missed
    # check-in that reached step 2 and ended with a late check-in.
    ja = journey_of(
        a, coordinator, lead, backup, created=at(9, 10), ended=at(9, 20), status="arrived"
    )
    escalate(ja, [1, 2], when=at(9, 12), closed_reason="late_check_in")
    # B: planned 1 Oct, arrived 31 Oct: 2 months after first contact in August.
    # One missed check-in that reached the contingency step (lost contact), ended by arrival.
    jb = journey_of(
        b, coordinator, lead, backup, created=at(10, 1), ended=at(10, 31, 12), status="arrived"
    )
    escalate(jb, [1, 2, 3], when=at(10, 5), closed_reason="arrived")
    # C: planned 3 Oct, still travelling; one missed check-in on 2 Nov, still open.
    jc = journey_of(c, coordinator, lead, backup, created=at(10, 3))
    escalate(jc, [1], when=at(11, 2))
    for journey, moment, channel in (
        (ja, at(9, 12), "signal"),
        (jb, at(10, 30), "phone"),
        (jb, at(10, 31), "phone"),
    ):
        CheckIn.objects.create(
            journey=journey, at=moment, channel=channel, result="all_clear", recorded_by=lead
        )
    Debrief.objects.create(
        journey=ja,
        recorded_by=lead,
        problems=["checkpoint", "missed_check_in"],
        channels_worked=["signal"],
        channels_failed=["phone"],
    )
    Debrief.objects.create(
        journey=jb,
        recorded_by=lead,
        problems=["lost_contact"],
        contingency_used=["safe_house", "warn_person"],
        channels_worked=["phone"],
    )
    return {"a": ja, "b": jb, "c": jc}


def test_the_figures_are_the_ones_computed_by_hand(world):
    report = selectors.journey_report(date_from=START, date_to=END)

    months = {
        row.month.month: (row.contacts, row.started, row.arrived, row.missed, row.lost_contact)
        for row in report.months
    }
    assert months == {9: (1, 1, 1, 1, 0), 10: (1, 2, 1, 1, 1), 11: (1, 0, 0, 1, 0)}

    assert report.arrival.count == 2
    assert report.arrival.median_months == 1.0
    assert report.arrival.average_months == 1.0
    assert (report.arrival.shortest_months, report.arrival.longest_months) == (0, 2)

    regions = {
        row.code: (row.journeys, row.arrived, row.missed, row.lost_contact, row.median_months)
        for row in report.by_region
    }
    assert regions == {"bago": (2, 2, 2, 1, 1.0), "chin": (1, 0, 1, 0, None)}
    channels = {
        row.code: (row.journeys, row.arrived, row.missed, row.lost_contact, row.median_months)
        for row in report.by_channel
    }
    assert channels == {"in_person": (1, 1, 1, 1, 2.0), "phone": (2, 1, 2, 0, 0.0)}

    assert [(row.step, row.outcome, row.windows) for row in report.outcomes] == [
        (1, "", 1),
        (2, "late_check_in", 1),
        (3, "arrived", 1),
    ]
    assert [(row.code, row.count) for row in report.check_in_channels] == [
        ("phone", 2),
        ("signal", 1),
    ]
    assert report.debriefs == 2
    assert [(row.code, row.count) for row in report.problems] == [
        ("missed_check_in", 1),
        ("lost_contact", 1),
        ("checkpoint", 1),
    ]
    assert [(row.code, row.count) for row in report.channels_worked] == [
        ("phone", 1),
        ("signal", 1),
    ]
    assert [(row.code, row.count) for row in report.channels_failed] == [("phone", 1)]
    assert [(row.code, row.count) for row in report.contingency_used] == [
        ("warn_person", 1),
        ("safe_house", 1),
    ]


def test_the_figures_do_not_change_when_the_journeys_are_minimised(world, settings):
    before = selectors.journey_report(date_from=START, date_to=END)
    for journey in (world["a"], world["b"]):
        Journey.objects.filter(pk=journey.pk).update(
            ended_at=journey.ended_at  # already long past the retention period
        )
        assert services.journey_minimise(journey_id=journey.pk)
    assert selectors.journey_report(date_from=START, date_to=END) == before


def test_the_report_takes_the_same_queries_whatever_the_number_of_journeys(
    world, django_assert_max_num_queries, coordinator, lead, backup
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        selectors.journey_report(date_from=START, date_to=END)
    for number in range(3):
        case = CaseFactory(intake_officer=backup, case_manager=lead, region="shan")
        journey = journey_of(case, coordinator, lead, backup, created=at(11, 3 + number))
        escalate(journey, [1, 2, 3], when=at(11, 5 + number))
    with CaptureQueriesContext(connection) as large:
        selectors.journey_report(date_from=START, date_to=END)
    assert len(large) == len(small)


def test_the_page_shows_the_chart_and_tables(world, login, coordinator):
    response = login(coordinator).get(
        reverse("journeys:reports"), {"start": "2026-09", "end": "2026-11"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="journey-chart"' in page
    assert "Lost contact (line with circles)" in page
    assert 'id="journey-by-region"' in page
    # Codes of cases never appear on the statistics page.
    assert world["a"].case.code not in page


def test_a_bad_range_is_refused_with_a_message(login, coordinator):
    response = login(coordinator).get(reverse("journeys:reports"), {"start": "2026-13"})
    assert response.status_code == 400
    assert "Enter a month as YYYY-MM" in response.content.decode()


def test_the_csv_holds_codes_and_counts_only_and_is_logged(world, login, coordinator):
    response = login(coordinator).get(
        reverse("journeys:reports_export"), {"start": "2026-09", "end": "2026-11"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "key", "measure", "value"]
    assert ["month", "2026-10", "lost_contact", "1"] in rows
    assert ["region", "bago", "median_months", "1.0"] in rows
    assert ["escalation", "step3", "arrived", "1"] in rows
    assert ["problem", "checkpoint", "count", "1"] in rows
    for journey in world.values():
        assert journey.case.code not in text
    assert "Bago" not in text  # codes, not translated labels
    log = AccessLog.objects.get(action=AccessLog.Action.EXPORT, actor=coordinator)
    assert log.detail["report"] == "journeys.statistics"


@pytest.mark.parametrize(
    ("role", "page", "export"),
    [
        (Role.JOURNEY_COORDINATOR, 200, 200),
        (Role.CASE_MANAGER, 200, 200),
        (Role.AUDITOR, 200, 200),
        (Role.ADMINISTRATOR, 200, 403),
        (Role.VERIFIER, 403, 403),
        (Role.FINANCE_OFFICER, 403, 403),
    ],
)
def test_who_may_see_and_export_the_reports(role, page, export, login, make_staff):
    client = login(make_staff(role))
    assert client.get(reverse("journeys:reports")).status_code == page
    assert client.get(reverse("journeys:reports_export")).status_code == export


def test_journey_status_arrived_is_what_counts(world):
    Journey.objects.filter(pk=world["b"].pk).update(status=JourneyStatus.CANCELLED)
    report = selectors.journey_report(date_from=START, date_to=END)
    assert report.arrival.count == 1
    assert report.arrival.median_months == 0
