"""The watchdog: /healthz says "degraded" when a scheduled task that must run often is late,
and the administrators are alerted exactly once when it falls behind and once when it recovers."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.roles import Role
from notifications import kinds
from notifications.models import Notification
from notifications.watchdog import watchdog_sweep

pytestmark = pytest.mark.django_db

TASK = "notifications.redeliver"


@pytest.fixture(autouse=True)
def _every_schedule_on_time():
    """Whatever ran before (a kept test database may be days old), every schedule ran now."""
    PeriodicTask.objects.update(last_run_at=timezone.now(), date_changed=timezone.now())


def _last_run(minutes_ago: int) -> None:
    PeriodicTask.objects.filter(task=TASK).update(
        last_run_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )


def test_the_sweeps_are_scheduled_and_watched():
    scheduled = set(PeriodicTask.objects.filter(enabled=True).values_list("task", flat=True))
    assert {"notifications.redeliver", "notifications.watchdog"} <= scheduled


def test_a_late_task_is_reported_degraded_and_alerted_once_then_recovery_once(make_staff):
    administrator = make_staff(Role.ADMINISTRATOR)
    make_staff(Role.AUDITOR)
    _last_run(minutes_ago=2)
    assert Client().get("/healthz").json()["status"] == "ok"
    assert watchdog_sweep() == {"late": [], "recovered": []}

    _last_run(minutes_ago=90)
    health = Client().get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["scheduled_tasks"][TASK]["late"] is True
    assert watchdog_sweep() == {"late": [TASK], "recovered": []}
    assert watchdog_sweep() == {"late": [], "recovered": []}
    late = Notification.objects.filter(kind=kinds.TASK_LATE.code)
    assert [entry.recipient for entry in late] == [administrator]
    assert TASK in late.get().text and "90 minutes" in late.get().text

    _last_run(minutes_ago=1)
    assert Client().get("/healthz").json()["status"] == "ok"
    assert watchdog_sweep() == {"late": [], "recovered": [TASK]}
    assert watchdog_sweep() == {"late": [], "recovered": []}
    assert Notification.objects.filter(kind=kinds.TASK_RECOVERED.code).count() == 1
    assert late.all().count() == 1

    # A second time late is a new episode, alerted again once.
    _last_run(minutes_ago=60)
    assert watchdog_sweep() == {"late": [TASK], "recovered": []}
    assert late.all().count() == 2


def test_a_schedule_that_never_ran_is_not_late_before_it_is_due():
    PeriodicTask.objects.filter(task=TASK).update(last_run_at=None)
    assert Client().get("/healthz").json()["status"] == "ok"
    PeriodicTask.objects.filter(task=TASK).update(
        date_changed=timezone.now() - datetime.timedelta(hours=2)
    )
    assert Client().get("/healthz").json()["scheduled_tasks"][TASK]["late"] is True
    PeriodicTask.objects.filter(task=TASK).update(date_changed=timezone.now())
    assert Client().get("/healthz").json()["scheduled_tasks"][TASK]["late"] is False
