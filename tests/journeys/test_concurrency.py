"""Two sweeps raced for real (each on its own connection), and a sweep that dies half-way:
every step is recorded, and alerted, exactly once."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction

from journeys import services
from journeys.models import Escalation, Step
from notifications.models import Notification
from tests.racing import race

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
