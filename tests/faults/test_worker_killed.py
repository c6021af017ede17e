"""A worker killed with SIGKILL in the middle of the monthly run. tests/payments/
test_run_resilience.py shows that starting the run again pays everyone once; here nobody starts
it again: the task was never acknowledged (acks late), so the worker that replaces the dead one
is handed the same task and finishes the month, paying each plan once. Meanwhile the staff read
that the run has not finished."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.result import AsyncResult
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from payments.models import DisbursementBatch, Payment, PaymentStatus
from payments.tasks import run_monthly_disbursement
from tests.factories import StipendPlanFactory
from tests.workers import kill, running_worker

pytestmark = [
    pytest.mark.celery_worker,
    # serialized_rollback restores the roles that the data migrations made, after each flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THIS_MONTH = timezone.localdate().replace(day=1)
PERIOD = f"{THIS_MONTH:%Y-%m}"
NOT_FINISHED = "The run has not finished: start it again to complete it."


def worker_settings() -> dict[str, str]:
    """The replacing worker hands back the unacknowledged messages older than its (here one
    second) visibility timeout: keys of this test's own keep it to this test's task."""
    return {
        "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
        "HAVEN_TEST_UNACKED_KEY": f"unacked-{uuid.uuid4().hex}",
    }


def test_a_killed_run_is_taken_over_by_the_next_worker_and_pays_everyone_once(
    login, make_staff, monkeypatch, tmp_path
):
    officer = make_staff(Role.FINANCE_OFFICER)
    plans = StipendPlanFactory.create_batch(30)
    environment = worker_settings()
    database = connection.settings_dict
    # Holds the run half-way, as in test_run_resilience.py: plan 20's line, uncommitted.
    blocker = psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"] or None,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        password=database["PASSWORD"] or None,
    )
    stuck_plan = plans[19]
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    try:
        blocker.execute(
            "INSERT INTO payments_payment (plan_id, case_id, period, amount, currency,"
            " funding_source_id, status, method, reference, acknowledged, carry_forward)"
            " VALUES (%s, %s, %s, 1, 'THB', %s, 'pending', '', '', false, false)",
            [stuck_plan.pk, stuck_plan.case_id, THIS_MONTH, stuck_plan.funding_source_id],
        )
        with running_worker(
            tmp_path / "first", HAVEN_DISBURSEMENT_CHUNK_SIZE="5", **environment
        ) as first:
            task_id = run_monthly_disbursement.apply_async(
                kwargs={"period": PERIOD, "actor_id": officer.pk}, queue=first.queue
            ).id
            deadline = time.monotonic() + 60
            while Payment.objects.filter(period=THIS_MONTH).count() < 15:
                assert time.monotonic() < deadline, first.output()
                time.sleep(0.2)
            time.sleep(0.5)
            kill(first)
    finally:
        blocker.rollback()
        blocker.close()
    assert Payment.objects.filter(period=THIS_MONTH).count() == 15

    # What the staff see while no worker is running.
    batch = DisbursementBatch.objects.get(period=THIS_MONTH)
    client = login(officer)
    detail_url = reverse("payments:batch_detail", args=[batch.pk])
    assert NOT_FINISHED in client.get(detail_url).text

    # The replacement worker (as a process supervisor would start) listens on the same
    # queue; nothing is sent again.
    monkeypatch.setattr("tests.workers.uuid.uuid4", lambda: uuid.UUID(first.queue[-32:]))
    with running_worker(
        tmp_path / "second", CELERY_VISIBILITY_TIMEOUT="1", **environment
    ) as second:
        assert second.queue == first.queue
        try:
            summary = AsyncResult(task_id).get(timeout=30)
        except CeleryTimeoutError:
            pytest.fail(f"The task was not taken over:\n{second.output()}")
        log = second.output()

    assert f"Task payments.run_monthly_disbursement[{task_id}] received" in log
    assert summary["batches"][0]["lines"] == 30
    lines = Payment.objects.filter(period=THIS_MONTH).exclude(status=PaymentStatus.CANCELLED)
    assert sorted(lines.values_list("plan_id", flat=True)) == sorted(plan.pk for plan in plans)
    batch.refresh_from_db()
    assert batch.run_completed_at is not None
    assert (batch.line_count, batch.total) == (30, sum(line.amount for line in lines))
    assert NOT_FINISHED not in client.get(detail_url).text
