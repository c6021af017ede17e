"""The debrief of a journey that arrived: recorded by its handlers or a coordinator, refused
before arrival and to anyone else, bad answers refused whole, the notes encrypted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from journeys import selectors, services
from journeys.models import Debrief, Journey, Leg
from journeys.services import DebriefAnswers, JourneyError
from tests.journeys.test_minimisation import rows_containing

pytestmark = pytest.mark.django_db

NOTES = "The driver at Kalay asked for more money"


@pytest.fixture
def arrived(journey, lead):
    services.journey_mark_arrived(journey=journey, actor=lead)
    return Journey.objects.get(pk=journey.pk)


def form_data(**overrides) -> dict:
    data = {
        "problems": ["money", "checkpoint"],
        "contingency_used": ["warn_person"],
        "channels_worked": ["signal"],
        "channels_failed": ["sms"],
        "leg_1": "6.5",
        "leg_2": "",
        "notes": NOTES,
    }
    data.update(overrides)
    return data


def test_a_handler_records_the_debrief_from_the_journey_page(arrived, login, lead):
    client = login(lead)
    page = client.get(reverse("journeys:detail", args=[arrived.pk])).content.decode()
    assert reverse("journeys:debrief", args=[arrived.pk]) in page
    response = client.post(reverse("journeys:debrief", args=[arrived.pk]), form_data())
    assert response.status_code == 302
    debrief = Debrief.objects.get(journey=arrived)
    # Stored in the order of the choices, once each.
    assert debrief.problems == ["checkpoint", "money"]
    assert debrief.contingency_used == ["warn_person"]
    assert (debrief.channels_worked, debrief.channels_failed) == (["signal"], ["sms"])
    assert debrief.notes == NOTES
    assert debrief.recorded_by == lead
    hours = dict(Leg.objects.filter(journey=arrived).values_list("position", "hours_taken"))
    assert hours == {1: Decimal("6.5"), 2: None}
    # The notes are ciphertext in the table and its history.
    assert rows_containing(NOTES) == []
    page = client.get(reverse("journeys:detail", args=[arrived.pk])).content.decode()
    assert "Money ran out or was demanded" in page
    assert NOTES in page


def test_a_correction_changes_the_one_debrief(arrived, login, lead, coordinator):
    login(lead).post(reverse("journeys:debrief", args=[arrived.pk]), form_data())
    login(coordinator).post(
        reverse("journeys:debrief", args=[arrived.pk]), form_data(problems=[], notes="")
    )
    debrief = Debrief.objects.get(journey=arrived)
    assert debrief.problems == []
    assert debrief.notes is None
    assert debrief.recorded_by == lead


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"problems": ["bribe"]}, "Select a valid choice"),
        ({"channels_failed": ["signal"]}, "cannot both have worked and have failed"),
        ({"leg_1": "-3"}, "greater than or equal to 0"),
        ({"leg_1": "lots"}, "Enter a number"),
        ({"notes": "x" * 4001}, "at most 4000 characters"),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(arrived, login, lead, overrides, message):
    response = login(lead).post(
        reverse("journeys:debrief", args=[arrived.pk]), form_data(**overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Debrief.objects.filter(journey=arrived).exists()
    assert not Leg.objects.filter(journey=arrived, hours_taken__isnull=False).exists()


def test_no_debrief_before_arrival_or_for_a_cancelled_journey(journey, lead, coordinator):
    with pytest.raises(JourneyError):
        services.debrief_record(journey=journey, actor=lead, answers=DebriefAnswers())
    services.journey_cancel(journey=journey, actor=coordinator)
    with pytest.raises(JourneyError):
        services.debrief_record(journey=journey, actor=lead, answers=DebriefAnswers())
    assert not Debrief.objects.exists()


def test_a_leg_the_journey_does_not_have_is_refused(arrived, lead):
    with pytest.raises(JourneyError):
        services.debrief_record(
            journey=arrived, actor=lead, answers=DebriefAnswers(leg_hours={9: Decimal(1)})
        )


def test_only_the_handlers_and_coordinators_may_debrief(arrived, login, outsider, make_staff):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.debrief_record(journey=arrived, actor=outsider, answers=DebriefAnswers())
    # The page of a journey one does not handle is not found, as the journey's own page is.
    response = login(outsider).post(reverse("journeys:debrief", args=[arrived.pk]), form_data())
    assert response.status_code == 404
    assert not Debrief.objects.exists()


def test_the_dashboard_lists_arrivals_waiting_for_a_debrief(arrived, login, lead):
    assert list(selectors.debriefs_to_record(lead)) == [arrived]
    page = login(lead).get(reverse("home")).content.decode()
    assert 'id="dashboard-journeys"' in page
    assert reverse("journeys:debrief", args=[arrived.pk]) in page
    services.debrief_record(journey=arrived, actor=lead, answers=DebriefAnswers())
    assert list(selectors.debriefs_to_record(lead)) == []


def test_the_debrief_page_counts_one_reveal_and_a_saved_debrief_none_more(arrived, login, lead):
    from audit.models import AccessLog

    client = login(lead)
    client.get(reverse("journeys:debrief", args=[arrived.pk]))
    reveals = AccessLog.objects.filter(action=AccessLog.Action.REVEAL, actor=lead)
    assert reveals.filter(field="journey debrief").count() == 1
    response = client.post(reverse("journeys:debrief", args=[arrived.pk]), form_data())
    assert response.status_code == 302
    # Saving shows nothing: no second reveal of the debrief (the journey page counts its own).
    assert reveals.filter(field="journey debrief").count() == 1
    # A refused answer re-renders the notes: that is a reveal.
    client.post(reverse("journeys:debrief", args=[arrived.pk]), form_data(leg_1="lots"))
    assert reveals.filter(field="journey debrief").count() == 2
