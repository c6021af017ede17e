"""The monthly run pays each plan exactly once when run twice at the same moment, and after a
worker is killed half-way through and the task is run again."""

from __future__ import annotations

import datetime
import time
from collections import Counter

import psycopg
import pytest
from django.db import connection

from accounts.roles import Role
from payments import services
from payments.models import DisbursementBatch, LedgerEntry, Payment, PaymentStatus
from payments.services import runs
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
    # Each line has exactly one creation event, whichever run wrote it.
    created = Payment.pgh_event_model.objects.filter(pgh_label="insert")
    assert sorted(created.values_list("pgh_obj_id", flat=True)) == sorted(
        lines.values_list("pk", flat=True)
    )


def runs_of_lines() -> Counter:
    """How many lines' creation events name each run."""
    return Counter(
        Payment.pgh_event_model.objects.filter(pgh_label="insert").values_list(
            "pgh_context__metadata__run", flat=True
        )
    )


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
    # Two runs, each naming its own officer: between them, every line once.
    creators = Counter(
        Payment.pgh_event_model.objects.filter(pgh_label="insert").values_list(
            "pgh_context__metadata__user", flat=True
        )
    )
    assert set(creators) <= {officer.pk for officer in officers}
    assert sum(creators.values()) == 40


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
            killed = run_monthly_disbursement.apply_async(
                kwargs={"period": "2026-11"}, queue=worker.queue
            )
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

    # Sent as django-celery-beat sends it, with the schedule's name in a header.
    with running_worker(tmp_path) as worker:
        result = run_monthly_disbursement.apply_async(
            kwargs={"period": "2026-11"},
            queue=worker.queue,
            headers={"periodic_task_name": "Monthly disbursement run"},
        )
        summary = result.get(timeout=60)
    assert summary["batches"][0]["lines"] == 30
    assert_each_plan_paid_once(plans)
    # The lines the killed run committed name it; the rest name the run that finished.
    assert runs_of_lines() == {killed.id: half_way, result.id: 30 - half_way}
    schedules = Payment.pgh_event_model.objects.filter(
        pgh_label="insert", pgh_context__metadata__run=result.id
    ).values_list("pgh_context__metadata__schedule", flat=True)
    assert set(schedules) == {"Monthly disbursement run"}
    assert DisbursementBatch.objects.get(period=NOVEMBER).run_completed_at is not None


def test_a_draft_is_not_approved_while_its_month_is_run_again(make_staff, monkeypatch):
    """The month run again to add a plan made later: an approval clicked while the run's lines
    are being written is refused, and once the run has counted them the approval commits every
    line it counted, no more."""
    officer, approver = make_staff(Role.FINANCE_OFFICER), make_staff(Role.FINANCE_APPROVER)
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    (batch,) = services.disbursement_run(period=NOVEMBER, actor=officer)
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    written = runs._insert_carried_lines
    clicked: list = []

    def approver_clicks_once_the_lines_are_written(parameters):
        count = written(parameters)
        clicked.extend(race([lambda: services.batch_approve(batch=batch, actor=approver)])[1])
        return count

    monkeypatch.setattr(runs, "_insert_carried_lines", approver_clicks_once_the_lines_are_written)
    services.disbursement_run(period=NOVEMBER, actor=officer)
    assert [str(error) for error in clicked] == [
        "The run for this batch has not finished: wait for it, or start it again if it stopped."
    ]
    batch.refresh_from_db()
    assert (batch.status, batch.line_count) == ("draft", 2)
    services.batch_approve(batch=batch, actor=approver)
    committed = LedgerEntry.objects.filter(batch=batch, account="committed")
    assert committed.count() == 2 and sum(entry.amount for entry in committed) == batch.total


def test_an_approval_refuses_lines_its_run_did_not_count(make_staff):
    officer, approver = make_staff(Role.FINANCE_OFFICER), make_staff(Role.FINANCE_APPROVER)
    plans = StipendPlanFactory.create_batch(2, start_date=datetime.date(2026, 1, 1))
    (batch,) = services.disbursement_run(period=NOVEMBER, actor=officer)
    # The lines no longer match the run's count (here one is gone; a second, overlapping run
    # could as well have added one).
    Payment.objects.filter(batch=batch, plan=plans[1]).delete()
    with pytest.raises(services.PaymentError, match="lines changed since its run was counted"):
        services.batch_approve(batch=batch, actor=approver)
    assert not LedgerEntry.objects.filter(batch=batch).exists()
