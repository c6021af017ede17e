"""PostgreSQL restarts in the middle of the monthly run: the worker's connection is cut after some
chunks have committed; the worker survives, the task retries by itself, and the month ends up
paid exactly once, with batch totals equal to their lines and a ledger that agrees. Meanwhile
the staff are told plainly that the run has not finished. The server restarted is a private one
(tests/faults/cluster.py), never the one the rest of the suite shares."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_celery_results.models import TaskResult

from accounts.roles import Role
from payments import services
from payments.models import DisbursementBatch, Payment, PaymentStatus
from payments.tasks import run_monthly_disbursement
from tests.factories import StipendPlanFactory, UserFactory
from tests.faults.cluster import (
    Cluster,
    copy_test_database_into,
    django_connected_to,
    private_cluster,
)
from tests.workers import Worker, running_worker

# serialized_rollback: the copy starts from the migrated database, with the roles.
pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THIS_MONTH = timezone.localdate().replace(day=1)
PERIOD = f"{THIS_MONTH:%Y-%m}"
PLANS = 30
CHUNK = 5
HELD_PLAN = 20  # the run waits in the chunk of the 20th plan,
HALF_WAY = 15  # after the three chunks before it have committed
NOT_FINISHED = "The run has not finished: start it again to complete it."


@pytest.fixture
def cluster(transactional_db) -> Iterator[Cluster]:
    with private_cluster() as cluster:
        copy_test_database_into(cluster)
        with django_connected_to(cluster):
            yield cluster


def hold_the_run_at(cluster: Cluster, plan) -> psycopg.Connection:
    """Another transaction inserts (plan, month) and keeps it uncommitted: the run's chunk
    holding that plan waits on the unique index, after the chunks before it have committed."""
    blocker = cluster.connect()
    blocker.execute(
        "INSERT INTO payments_payment (plan_id, case_id, period, amount, currency,"
        " funding_source_id, status, method, reference, acknowledged, carry_forward)"
        " VALUES (%s, %s, %s, 1, 'THB', %s, 'pending', '', '', false, false)",
        [plan.pk, plan.case_id, THIS_MONTH, plan.funding_source_id],
    )
    return blocker


def wait_for_lines(count: int, worker: Worker) -> None:
    deadline = time.monotonic() + 60
    while Payment.objects.filter(period=THIS_MONTH).count() < count:
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.2)
    time.sleep(0.5)  # the run is held: nothing more may arrive


def wait_for_result(result, worker: Worker) -> dict:
    """The task's result, or a failure as soon as the worker has died."""
    deadline = time.monotonic() + 30
    while not result.ready():
        assert worker.process.poll() is None, "the worker died:\n" + worker.output()
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.2)
    return result.get()


def test_postgresql_restarting_mid_run_pays_everyone_exactly_once(cluster, login, tmp_path):
    officer = UserFactory(roles=[Role.FINANCE_OFFICER])
    approver = UserFactory(roles=[Role.FINANCE_APPROVER])
    plans = StipendPlanFactory.create_batch(PLANS)
    blocker = hold_the_run_at(cluster, plans[HELD_PLAN - 1])

    with running_worker(tmp_path, HAVEN_DISBURSEMENT_CHUNK_SIZE=str(CHUNK)) as worker:
        result = run_monthly_disbursement.apply_async(
            kwargs={"period": PERIOD, "actor_id": officer.pk}, queue=worker.queue
        )
        wait_for_lines(HALF_WAY, worker)
        assert Payment.objects.filter(period=THIS_MONTH).count() == HALF_WAY
        batch = DisbursementBatch.objects.get(period=THIS_MONTH)

        # Half-way, the staff are told the run has not finished, and it cannot be approved.
        officer_client, approver_client = login(officer), login(approver)
        assert "(run in progress)" in officer_client.get(reverse("payments:batches")).text
        detail_url = reverse("payments:batch_detail", args=[batch.pk])
        assert NOT_FINISHED in officer_client.get(detail_url).text
        approve_url = reverse("payments:batch_approve", args=[batch.pk])
        refused = approver_client.post(approve_url, {"action": "approve"}, follow=True)
        assert "The run for this batch has not finished" in refused.text
        assert refused.status_code == 200

        # The restart: every connection is cut, the blocker's uncommitted line is gone.
        connection.close()
        cluster.pg_ctl("restart", "-m", "fast")
        blocker.close()

        summary = wait_for_result(result, worker)
        log = worker.output()
        # What an administrator sees among the task results: a success, no traceback.
        stored = TaskResult.objects.get(task_id=result.id)
        assert (stored.status, stored.traceback) == ("SUCCESS", None)

    # The worker said why it retried; nothing crashed.
    assert "retry: Retry in" in log and "OperationalError" in log, log
    assert "Unrecoverable error" not in log, log
    assert summary["batches"] == [
        {"id": batch.pk, "currency": "THB", "lines": PLANS, "total": f"{PLANS * 1000}.00"}
    ]

    # Every plan paid once, the batch's figures are its lines'.
    lines = Payment.objects.filter(period=THIS_MONTH).exclude(status=PaymentStatus.CANCELLED)
    assert sorted(lines.values_list("plan_id", flat=True)) == sorted(plan.pk for plan in plans)
    batch.refresh_from_db()
    assert batch.run_completed_at is not None
    assert (batch.line_count, batch.total) == (PLANS, services.batch_lines_total(batch))

    # The staff see a finished batch, which can now be approved: the ledger commits exactly it.
    assert NOT_FINISHED not in officer_client.get(detail_url).text
    seen = approver_client.get(approve_url).context["payouts_seen"]
    approved = approver_client.post(
        approve_url, {"action": "approve", "payouts_seen": seen}, follow=True
    )
    assert f"{PLANS} lines are committed" in approved.text
    assert services.batch_ledger_total(batch) == batch.total
