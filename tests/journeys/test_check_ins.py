"""Check-ins: an all-clear satisfies the window; a duress word raises the emergency flag and
alerts coordinators and administrators urgently; a miss is recorded and satisfies nothing."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from accounts.roles import Role
from cases.models import JourneyEvent
from journeys import services
from journeys.models import CheckIn
from journeys.services import JourneyError
from notifications.models import Notification
from tests.journeys.conftest import ALL_CLEAR, DURESS, NOTE

pytestmark = pytest.mark.django_db


def first_window(journey):
    return journey.windows.order_by("due_at").first()


def test_an_all_clear_check_in_satisfies_the_window(journey, lead, time_machine_now):
    window = first_window(journey)
    time_machine_now.move_to(window.due_at)
    check_in = services.check_in_record(
        journey=journey,
        actor=lead,
        word=ALL_CLEAR,
        channel="signal",
        coarse_location="Kalay",
        note=NOTE,
    )
    assert check_in.result == "all_clear" and not check_in.late
    window.refresh_from_db()
    assert window.checked_in_at == window.due_at
    # The note is encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM journeys_checkin WHERE id = %s", [check_in.pk])
        assert NOTE not in cursor.fetchone()[0]
    assert CheckIn.objects.get(pk=check_in.pk).note == NOTE


def test_a_check_in_early_within_the_grace_counts(journey, lead, time_machine_now):
    window = first_window(journey)
    time_machine_now.move_to(window.due_at - datetime.timedelta(minutes=20))
    services.check_in_record(journey=journey, actor=lead, word=ALL_CLEAR, channel="phone")
    window.refresh_from_db()
    assert window.checked_in_at is not None


def test_a_check_in_long_before_the_window_does_not_count_for_it(journey, lead):
    services.check_in_record(journey=journey, actor=lead, word=ALL_CLEAR, channel="phone")
    assert not journey.windows.filter(checked_in_at__isnull=False).exists()


def test_duress_raises_the_emergency_flag_and_alerts_urgently(
    journey, lead, coordinator, make_staff
):
    administrator = make_staff(Role.ADMINISTRATOR)
    check_in = services.check_in_record(journey=journey, actor=lead, word=DURESS, channel="signal")
    assert check_in.result == "duress"
    journey.case.refresh_from_db()
    assert journey.case.emergency
    assert JourneyEvent.objects.filter(case=journey.case, kind="emergency_on").exists()
    alerts = Notification.objects.filter(kind="journeys.duress")
    assert {coordinator.pk, administrator.pk} <= set(alerts.values_list("recipient", flat=True))
    assert set(alerts.values_list("severity", flat=True)) == {"urgent"}
    # A duress check-in satisfies nothing: the clock keeps counting.
    assert not journey.windows.filter(checked_in_at__isnull=False).exists()


def test_duress_heard_by_a_handler_without_the_safety_permission(journey, backup, lead):
    """The intake officer cannot raise the flag themselves: the case manager's name carries it,
    and the reason says who heard the word."""
    services.check_in_record(journey=journey, actor=backup, word=DURESS, channel="phone")
    journey.case.refresh_from_db()
    assert journey.case.emergency
    event = JourneyEvent.objects.get(case=journey.case, kind="emergency_on")
    assert backup.username in event.reason


def test_a_missed_word_is_recorded_but_satisfies_nothing(journey, lead, time_machine_now):
    window = first_window(journey)
    time_machine_now.move_to(window.due_at)
    check_in = services.check_in_record(journey=journey, actor=lead, word="wrong", channel="signal")
    assert check_in.result == "no_match"
    window.refresh_from_db()
    assert window.checked_in_at is None


def test_an_outsider_cannot_record(journey, outsider):
    with pytest.raises(PermissionDenied):
        services.check_in_record(journey=journey, actor=outsider, word=ALL_CLEAR, channel="phone")
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"word": ""}, "code word"),
        ({"channel": "pigeon"}, "channel"),
        ({"at": "future"}, "future"),
    ],
)
def test_bad_check_ins_are_refused(journey, lead, overrides, message):
    from django.utils import timezone

    arguments = {"journey": journey, "actor": lead, "word": ALL_CLEAR, "channel": "phone"}
    arguments.update(overrides)
    if arguments.get("at") == "future":
        arguments["at"] = timezone.now() + datetime.timedelta(hours=1)
    with pytest.raises(JourneyError, match=message):
        services.check_in_record(**arguments)
    assert not CheckIn.objects.exists()
