"""Two sweeps raced for real (each on its own connection), and a sweep that dies half-way:
every step is recorded, and alerted, exactly once."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction

from cases.models import Case
from journeys import services
from journeys.models import Escalation, Journey, Step
from notifications.models import Notification
from tests.journeys.conftest import DURESS
from tests.racing import in_a_thread, race, waiting_on_a_lock

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_two_concurrent_sweeps_record_each_step_once(plan):
    journey = plan()
    end = journey.windows.order_by("due_at").first().grace_ends_at
    now = end + datetime.timedelta(hours=3)
    results, errors = race([lambda: services.escalation_sweep(now=now) for _ in range(4)])
    assert errors == []
    assert sorted(len(created) for created in results) == [0, 0, 0, 3]
    assert sorted(Escalation.objects.values_list("step", flat=True)) == [
        Step.LEAD,
        Step.BACKUP,
        Step.CONTINGENCY,
    ]
    assert Notification.objects.filter(kind="journeys.missed_lead").count() == 1


def test_a_sweep_that_dies_half_way_leaves_nothing_and_the_next_does_it_all(plan, monkeypatch):
    journey = plan()
    end = journey.windows.order_by("due_at").first().grace_ends_at
    from journeys.services import escalation

    def die(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(escalation, "notify", die)
    with pytest.raises(SystemExit):
        services.escalation_sweep(now=end + datetime.timedelta(hours=3))
    assert not Escalation.objects.exists()
    monkeypatch.undo()
    with transaction.atomic():
        created = services.escalation_sweep(now=end + datetime.timedelta(hours=3))
    assert len(created) == 3
    assert Notification.objects.filter(kind="journeys.incident").count() >= 1


def test_a_duress_check_in_and_an_arrival_at_once_wait_for_each_other(
    plan, lead, backup, coordinator
):
    """An arrival locks the case, then its journey; a check-in takes them in the same order, so
    a duress word heard at that moment is never lost to a deadlock."""
    journey = plan()
    checking: dict = {}
    with transaction.atomic():
        # What recording the stage "arrived" takes first.
        Case.objects.select_for_update().get(pk=journey.case_id)
        thread = in_a_thread(
            lambda: services.check_in_record(
                journey=journey, actor=lead, word=DURESS, channel="signal"
            ),
            checking,
        )
        assert waiting_on_a_lock()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '3s'")
        # ...then the journey: free, for the check-in waits on the case.
        Journey.objects.select_for_update().get(pk=journey.pk)
    thread.join(20)
    assert "error" not in checking, checking
    assert Notification.objects.filter(kind="journeys.duress", recipient=coordinator).exists()
