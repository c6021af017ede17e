"""A worker killed with SIGKILL in the middle of the sweep: the steps it had inserted die with
its transaction, and the next sweep records each step, with its alerts, exactly once."""

from __future__ import annotations

import datetime
import time

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from journeys import services
from journeys.models import CheckInWindow, Escalation, Step
from journeys.tasks import escalate
from notifications.models import Notification
from tests.workers import kill, running_worker

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _connect():
    database = connection.settings_dict
    return psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"] or None,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        password=database["PASSWORD"] or None,
    )


def _waiting_backends(watcher) -> int:
    return watcher.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND pid <> pg_backend_pid() AND query LIKE '%%INSERT INTO journeys_escalation%%'"
    ).fetchone()[0]


def test_a_sweep_killed_half_way_leaves_nothing_and_the_next_records_each_step_once(plan, tmp_path):
    journey = plan()
    window = journey.windows.order_by("due_at").first()
    # The first window was missed three hours ago, in real time (the worker's clock).
    shift = window.grace_ends_at - timezone.now() + datetime.timedelta(hours=3)
    CheckInWindow.objects.filter(pk=window.pk).update(
        due_at=window.due_at - shift, grace_ends_at=window.grace_ends_at - shift
    )
    blocker, watcher = _connect(), _connect()
    watcher.autocommit = True
    try:
        # Another transaction holds step 3 of that window, uncommitted: the worker's sweep
        # inserts steps 1 and 2, then waits on it; that is when it is killed.
        blocker.execute(
            "INSERT INTO journeys_escalation (journey_id, window_id, step, at, closed_reason)"
            " VALUES (%s, %s, 3, now(), '')",
            [journey.pk, window.pk],
        )
        with running_worker(tmp_path) as worker:
            escalate.apply_async(queue=worker.queue)
            deadline = time.monotonic() + 60
            while _waiting_backends(watcher) == 0:
                assert time.monotonic() < deadline, worker.output()
                time.sleep(0.2)
            kill(worker)
        blocker.rollback()
        deadline = time.monotonic() + 30
        while _waiting_backends(watcher):
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        blocker.close()
        watcher.close()
    assert not Escalation.objects.exists()
    created = services.escalation_sweep()
    assert len(created) == 3
    assert sorted(Escalation.objects.filter(window=window).values_list("step", flat=True)) == [
        Step.LEAD,
        Step.BACKUP,
        Step.CONTINGENCY,
    ]
    assert services.escalation_sweep() == []
    assert Notification.objects.filter(kind="journeys.missed_lead").count() == 1
