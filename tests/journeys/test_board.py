"""The journeys board: journeys in progress, escalated and overdue first, with their countdown and
escalation step; filters by coordinator and handler kept in the query string (and in the htmx
poll); a query count that does not grow with the number of journeys."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from journeys import services
from journeys.models import CheckInWindow, Escalation, Step
from tests.factories import CaseFactory
from tests.journeys.conftest import plan_arguments

pytestmark = pytest.mark.django_db

BOARD = reverse("journeys:board")


def more_journeys(count, coordinator, lead, backup, **overrides):
    journeys = []
    for _ in range(count):
        case = CaseFactory(intake_officer=backup, case_manager=lead)
        arguments = plan_arguments(case, coordinator, lead, backup)
        arguments.update(overrides)
        journeys.append(services.journey_plan(**arguments))
    return journeys


def make_overdue(journey, minutes_past_grace=5):
    first = journey.windows.order_by("due_at").first()
    shift = first.grace_ends_at - timezone.now() + datetime.timedelta(minutes=minutes_past_grace)
    CheckInWindow.objects.filter(pk=first.pk).update(
        due_at=first.due_at - shift, grace_ends_at=first.grace_ends_at - shift
    )
    return first


def test_escalated_and_overdue_first_with_countdown_and_step(login, coordinator, lead, backup):
    calm, overdue, escalated = more_journeys(3, coordinator, lead, backup)
    make_overdue(overdue)
    window = make_overdue(escalated, minutes_past_grace=40)
    Escalation.objects.create(journey=escalated, window=window, step=Step.BACKUP, at=timezone.now())
    page = login(coordinator).get(BOARD).content.decode()
    positions = [page.index(journey.case.code) for journey in (escalated, overdue, calm)]
    assert positions == sorted(positions)
    assert "overdue by" in page
    assert re.search(r"in \d+\s(hour|minute)", page)
    assert str(Step.BACKUP.label) in page
    assert 'hx-trigger="every 60s"' in page


def test_filters_by_coordinator_and_handler_stay_in_the_poll(
    login, coordinator, lead, backup, make_staff, case
):
    from accounts.roles import Role

    mine = more_journeys(1, coordinator, lead, backup)[0]
    other_coordinator = make_staff(Role.JOURNEY_COORDINATOR)
    theirs = more_journeys(1, other_coordinator, lead, backup)[0]
    client = login(coordinator)
    page = client.get(BOARD, {"coordinator": other_coordinator.pk}).content.decode()
    assert theirs.case.code in page and mine.case.code not in page
    assert f"{BOARD}?coordinator={other_coordinator.pk}" in page
    page = client.get(BOARD, {"handler": coordinator.pk}).content.decode()
    assert theirs.case.code not in page and mine.case.code not in page
    fragment = client.get(
        BOARD, {"handler": lead.pk, "coordinator": coordinator.pk}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert mine.case.code in fragment and theirs.case.code not in fragment
    assert "<form" not in fragment and "<html" not in fragment


def test_a_handler_sees_only_their_journeys(login, coordinator, lead, backup, outsider):
    journey = more_journeys(1, coordinator, lead, backup)[0]
    assert journey.case.code in login(lead).get(BOARD).content.decode()
    assert journey.case.code not in login(outsider).get(BOARD).content.decode()


def test_nonsense_filters_are_ignored(login, coordinator):
    client = login(coordinator)
    for nonsense in ({"coordinator": "x'1", "handler": "99999999999"}, {"coordinator": "²"}):
        assert client.get(BOARD, nonsense).status_code == 200


def test_ended_journeys_are_not_on_the_board(login, coordinator, lead, journey):
    services.journey_mark_arrived(journey=journey, actor=lead)
    assert journey.case.code not in login(coordinator).get(BOARD).content.decode()


def test_the_query_count_does_not_grow_with_the_journeys(
    login, coordinator, lead, backup, django_assert_max_num_queries
):
    client = login(coordinator)
    first = more_journeys(2, coordinator, lead, backup)
    make_overdue(first[0])
    client.get(BOARD)  # warm the session and permission caches
    with django_assert_max_num_queries(100) as small:
        client.get(BOARD)
    fewer = len(small.captured_queries)
    for journey in more_journeys(8, coordinator, lead, backup):
        make_overdue(journey)
    with django_assert_max_num_queries(fewer):
        page = client.get(BOARD).content.decode()
    assert page.count("overdue by") == 9
    with django_assert_max_num_queries(fewer):
        client.get(BOARD, HTTP_HX_REQUEST="true")
