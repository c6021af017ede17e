"""The monthly run pays each plan exactly once when run twice at the same moment, and after a
worker is killed half-way through and the task is run again."""

from __future__ import annotations

import datetime
import time

import psycopg
import pytest
from django.db import connection

from accounts.roles import Role
from payments import services
from payments.models import DisbursementBatch, Payment, PaymentStatus
from payments.tasks import run_monthly_disbursement
from tests.factories import StipendPlanFactory
from tests.racing import race
from tests.workers import kill, running_worker

# serialized_rollback restores the roles that the data migrations made, after each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NOVEMBER = datetime.date(2026, 11, 1)


def assert_each_plan_paid_once(plans) -> None:
    lines = Payment.objects.filter(period=NOVEMBER).exclude(status=PaymentStatus.CANCELLED)
    assert sorted(lines.values_list("plan_id", flat=True)) == sorted(plan.pk for plan in plans)
    batch = DisbursementBatch.objects.get(period=NOVEMBER, currency="THB")
    assert batch.line_count == len(plans)
    assert batch.total == sum(line.amount for line in lines)


def test_two_runs_at_the_same_moment_pay_each_plan_once(make_staff):
    officers = [make_staff(Role.FINANCE_OFFICER) for _ in range(2)]
    plans = StipendPlanFactory.create_batch(40, start_date=datetime.date(2026, 1, 1))
    _results, errors = race(
        [
            (
                lambda officer=officer: services.disbursement_run(
                    period=NOVEMBER, actor=officer, chunk_size=7
                )
            )
            for officer in officers
        ]
    )
    assert errors == []
    assert_each_plan_paid_once(plans)


@pytest.mark.celery_worker
def test_worker_killed_mid_run_then_run_again_pays_everyone_exactly_once(tmp_path):
    plans = StipendPlanFactory.create_batch(30, start_date=datetime.date(2026, 1, 1))
    stuck_plan = plans[19]
    database = connection.settings_dict
    # Another transaction holds (plan 20, November) uncommitted: the worker's chunk that holds
    # plan 20 waits on the unique index, after the chunks before it have committed.
    blocker = psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"] or None,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        password=database["PASSWORD"] or None,
    )
    try:
        blocker.execute(
            "INSERT INTO payments_payment (plan_id, case_id, period, amount, currency,"
            " funding_source_id, status, method, reference, acknowledged, carry_forward)"
            " VALUES (%s, %s, %s, 1, 'THB', %s, 'pending', '', '', false, false)",
            [stuck_plan.pk, stuck_plan.case_id, NOVEMBER, stuck_plan.funding_source_id],
        )
        with running_worker(tmp_path, HAVEN_DISBURSEMENT_CHUNK_SIZE="5") as worker:
            run_monthly_disbursement.apply_async(kwargs={"period": "2026-11"}, queue=worker.queue)
            deadline = time.monotonic() + 60
            while Payment.objects.filter(period=NOVEMBER).count() < 15:
                assert time.monotonic() < deadline, worker.output()
                time.sleep(0.2)
            time.sleep(0.5)
            half_way = Payment.objects.filter(period=NOVEMBER).count()
            assert 15 <= half_way < 30
            kill(worker)
    finally:
        blocker.rollback()
        blocker.close()
    assert Payment.objects.filter(period=NOVEMBER).count() == half_way
    assert DisbursementBatch.objects.get(period=NOVEMBER).run_completed_at is None

    with running_worker(tmp_path) as worker:
        result = run_monthly_disbursement.apply_async(
            kwargs={"period": "2026-11"}, queue=worker.queue
        )
        summary = result.get(timeout=60)
    assert summary["batches"][0]["lines"] == 30
    assert_each_plan_paid_once(plans)
    assert DisbursementBatch.objects.get(period=NOVEMBER).run_completed_at is not None
