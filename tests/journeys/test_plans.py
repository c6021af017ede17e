"""Planning a journey: what is stored and how, and every kind of bad input refused with a
clear message and nothing saved."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from accounts.roles import Role
from journeys import services
from journeys.models import CheckInWindow, ContingencyStep, Journey, Leg
from journeys.services import JourneyError
from protection.keys import DataKey
from tests.journeys.conftest import ALL_CLEAR, CHANNEL_DETAILS, DURESS, plan_arguments

pytestmark = pytest.mark.django_db


def test_a_plan_has_legs_windows_and_contingency(journey):
    assert [(leg.from_place, leg.to_place) for leg in journey.legs.all()] == [
        ("Monywa", "Kalay"),
        ("Kalay", "Tamu"),
    ]
    windows = list(journey.windows.order_by("due_at"))
    # Every 4 hours over 24 hours: 5 windows on the way and one at arrival.
    assert len(windows) == 6
    assert windows[-1].due_at == journey.arrival_at
    assert all(w.grace_ends_at - w.due_at == datetime.timedelta(minutes=30) for w in windows)
    assert journey.contingency.count() == 2


def test_the_journey_has_a_data_key_of_its_own(journey, case):
    assert journey.data_key_id != case.data_key_id
    assert DataKey.objects.get(pk=journey.data_key_id).purpose == "journeys.journey"
    assert {leg.data_key_id for leg in journey.legs.all()} == {journey.data_key_id}
    assert {s.data_key_id for s in journey.contingency.all()} == {journey.data_key_id}


def test_everything_but_coarse_places_is_encrypted_at_rest(journey):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT planned_departure, primary_channel, channel_details, all_clear_hash, "
            "duress_hash FROM journeys_journey WHERE id = %s",
            [journey.pk],
        )
        row = cursor.fetchone()
        cursor.execute(
            "SELECT from_place, details FROM journeys_leg WHERE journey_id = %s", [journey.pk]
        )
        legs = cursor.fetchall()
        cursor.execute(
            "SELECT details, house_code FROM journeys_contingencystep WHERE journey_id = %s",
            [journey.pk],
        )
        steps = cursor.fetchall()
    stored = " ".join(str(value) for value in [*row, *legs, *steps])
    for secret in (CHANNEL_DETAILS, "signal", "Bus at dawn", "brother in Mandalay", "SH-07"):
        assert secret not in stored
    assert ALL_CLEAR not in stored and DURESS not in stored
    assert "Monywa" in stored  # the coarse place is in clear


def test_times_of_day_schedule(plan):
    departure = timezone.now() + datetime.timedelta(hours=1)
    journey = plan(
        every_hours=None,
        times_of_day=[datetime.time(6, 0), datetime.time(18, 0)],
        departure=departure,
        arrival=departure + datetime.timedelta(days=2),
    )
    count = journey.windows.count()
    assert 4 <= count <= 6  # two a day over two days, and the arrival


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"departure": timezone.now() - datetime.timedelta(hours=2)}, "past"),
        ({"grace_minutes": 0}, "grace period"),
        ({"grace_minutes": -5}, "grace period"),
        ({"all_clear_word": "abc"}, "at least 4"),
        ({"duress_word": "  ab "}, "at least 4"),
        ({"duress_word": "River  MANGO"}, "must differ"),
        ({"every_hours": None, "times_of_day": []}, "check-in times"),
        ({"primary_channel": "pigeon"}, "channels"),
        ({"legs": []}, "leg"),
    ],
)
def test_bad_plans_are_refused_and_nothing_is_saved(
    case, coordinator, lead, backup, overrides, message
):
    arguments = plan_arguments(case, coordinator, lead, backup, **overrides)
    with pytest.raises(JourneyError, match=message):
        services.journey_plan(**arguments)
    assert not Journey.objects.exists()
    assert not Leg.objects.exists() and not CheckInWindow.objects.exists()
    assert not ContingencyStep.objects.exists()


def test_lead_and_backup_must_differ(case, coordinator, lead, backup):
    with pytest.raises(JourneyError, match="two people"):
        services.journey_plan(
            **plan_arguments(case, coordinator, lead, backup, backup_handler=lead)
        )
    assert not Journey.objects.exists()


def test_a_handler_outside_the_case_team_is_refused(case, coordinator, lead, backup, outsider):
    with pytest.raises(JourneyError, match="team"):
        services.journey_plan(
            **plan_arguments(case, coordinator, lead, backup, backup_handler=outsider)
        )
    assert not Journey.objects.exists()


def test_a_team_member_without_a_handler_role_is_refused(case, coordinator, lead, make_staff):
    from tests.factories import add_to_team

    housing = make_staff(Role.HOUSING_COORDINATOR)
    add_to_team(case, housing)
    with pytest.raises(JourneyError, match="handle journeys"):
        services.journey_plan(**plan_arguments(case, coordinator, lead, housing))


def test_only_a_coordinator_plans(case, lead, backup):
    with pytest.raises(PermissionDenied):
        services.journey_plan(**plan_arguments(case, lead, lead, backup))


def test_one_journey_in_progress_per_case(journey, plan):
    with pytest.raises(JourneyError, match="already"):
        plan()
    assert Journey.objects.count() == 1


def test_the_database_refuses_lead_equal_backup(journey):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Journey.objects.filter(pk=journey.pk).update(backup_handler=journey.lead_handler)


def test_the_database_refuses_a_non_positive_grace(journey):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Journey.objects.filter(pk=journey.pk).update(grace_minutes=0)
