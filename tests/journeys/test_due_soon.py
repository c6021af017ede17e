"""The coordinators' and handlers' dashboards: their own journeys with a check-in due in the
next hours (or overdue), soonest first, in a number of queries that does not grow."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from journeys import selectors, services
from tests.factories import CaseFactory
from tests.journeys.conftest import plan_arguments

pytestmark = pytest.mark.django_db


def plan_for(coordinator, lead, backup, *, departure_in: datetime.timedelta):
    case = CaseFactory(intake_officer=backup, case_manager=lead)
    departure = timezone.now() + departure_in
    return services.journey_plan(
        **plan_arguments(
            case,
            coordinator,
            lead,
            backup,
            departure=departure,
            arrival=departure + datetime.timedelta(hours=24),
        )
    )


def test_journeys_due_soon_are_listed_and_later_ones_are_not(
    coordinator, lead, backup, outsider, login
):
    soon = plan_for(coordinator, lead, backup, departure_in=datetime.timedelta(hours=1))
    later = plan_for(coordinator, lead, backup, departure_in=datetime.timedelta(days=3))
    for person in (coordinator, lead, backup):
        assert list(selectors.due_soon(person)) == [soon]
    # A case manager who handles none of them sees none.
    assert list(selectors.due_soon(outsider)) == []

    page = login(lead).get(reverse("home")).content.decode()
    block = page.split('id="dashboard-journeys"')[1].split("</section>")[0]
    assert soon.case.code in block
    assert later.case.code not in block
    page = login(outsider).get(reverse("home")).content.decode()
    assert 'id="dashboard-journeys"' not in page


def test_the_soonest_comes_first(coordinator, lead, backup):
    second = plan_for(coordinator, lead, backup, departure_in=datetime.timedelta(hours=5))
    first = plan_for(coordinator, lead, backup, departure_in=datetime.timedelta(hours=2))
    assert list(selectors.due_soon(lead)) == [first, second]


def test_the_dashboard_block_takes_the_same_queries_for_one_or_many(
    coordinator, lead, backup, outsider, login
):
    """The previews of journeys due, debriefs to record and break-the-glass uses to review load
    only what they show: more of each, and what each shows, costs no query more."""
    from cases.services import break_glass_open

    def one_more_of_each(departure_in: datetime.timedelta) -> None:
        plan_for(coordinator, lead, backup, departure_in=departure_in)
        arrived = plan_for(coordinator, lead, backup, departure_in=departure_in)
        services.journey_mark_arrived(journey=arrived, actor=lead)
        break_glass_open(case=arrived.case, actor=outsider, reason="danger", why="Threatened")

    client = login(lead)
    one_more_of_each(datetime.timedelta(hours=1))
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("home"))
    for _number in range(6):
        one_more_of_each(datetime.timedelta(hours=2))
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("home")).content.decode()
    assert len(many) == len(one)
    assert page.count("and 2 more") == 3  # due, debriefs and break-the-glass
    assert outsider.get_full_name() in page.split('id="dashboard-alert-glass"')[1]
