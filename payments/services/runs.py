"""The monthly disbursement run: set-based SQL in bounded, committed chunks that creates the
month's draft batches; running it twice, at once, or again after a crash pays every eligible plan
exactly once."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.cooling import require_settled
from accounts.models import User
from audit.services import audit_context
from operations.queueing import queue_task
from payments.models import BatchStatus, DisbursementBatch, StipendPlan
from payments.money import MINOR_UNITS
from payments.notifications import notify_batch_ready
from payments.services.common import PaymentError, _refuse_and_log, month_end, month_of

# How the history names the monthly run (audit/history.py describes it on the audit pages).
RUN_ACTION = "payments.run"

_DECIMALS_SQL = (
    "CASE plan.currency "
    + " ".join(f"WHEN '{currency}' THEN {places}" for currency, places in MINOR_UNITS.items())
    + " END"
)

_PLAN_IS_ELIGIBLE = """
    plan.status = 'active'
    AND person.status = 'verified'
    AND plan.start_date <= %(month_end)s
    AND (plan.end_date IS NULL OR plan.end_date >= %(period)s)
"""

# Multiply before dividing, so an exact half rounds up as in plan_amount_for().
_LINE_AMOUNT = f"""
    round(
        plan.amount
        * (LEAST(COALESCE(plan.end_date, %(month_end)s), %(month_end)s)
           - GREATEST(plan.start_date, %(period)s) + 1)
        / %(days_in_month)s::numeric,
        {_DECIMALS_SQL}
    )
"""


_UNCARRIED = """
    carried.carry_forward AND carried.period < %(period)s
    AND NOT EXISTS (SELECT 1 FROM payments_payment AS later
                    WHERE later.carried_from_id = carried.id)
"""


def _ensure_batches(parameters: dict) -> None:
    """A draft batch for each currency that has something to pay this month."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO payments_disbursementbatch
                (period, currency, status, prepared_by_id, prepared_at, total, line_count,
                 rejection_reason)
            SELECT %(period)s, currency, 'draft', %(actor)s, now(), 0, 0, ''
            FROM (
                SELECT plan.currency
                FROM payments_stipendplan AS plan
                JOIN cases_case AS person ON person.id = plan.case_id
                WHERE {_PLAN_IS_ELIGIBLE}
                UNION
                SELECT carried.currency FROM payments_payment AS carried WHERE {_UNCARRIED}
            ) AS currencies
            ON CONFLICT DO NOTHING
            """,  # nosec B608  # SQL from module constants; every value is a parameter
            parameters,
        )
        # A run is under way: no draft of the month may be approved until its last step has
        # counted the lines again (_refresh_totals). Waits for an approval holding the batch.
        cursor.execute(
            "UPDATE payments_disbursementbatch SET run_completed_at = NULL"
            " WHERE period = %(period)s AND status = 'draft'",
            parameters,
        )


def _insert_plan_lines(parameters: dict, after_id: int, up_to_id: int) -> int:
    """One committed chunk of lines: plans with after_id < id <= up_to_id."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO payments_payment
                (batch_id, plan_id, case_id, period, amount, currency, funding_source_id, status,
                 method, reference, acknowledged, carry_forward, payee_method, payee_account)
            SELECT batch.id, plan.id, plan.case_id, %(period)s, line.amount, plan.currency,
                   plan.funding_source_id, 'pending', '', NULL, false, false,
                   plan.payout_method, plan.payout_account
            FROM payments_stipendplan AS plan
            JOIN cases_case AS person ON person.id = plan.case_id
            CROSS JOIN LATERAL (SELECT {_LINE_AMOUNT} AS amount) AS line
            JOIN payments_disbursementbatch AS batch
              ON batch.period = %(period)s AND batch.currency = plan.currency
             AND batch.status = 'draft'
            WHERE {_PLAN_IS_ELIGIBLE}
              AND plan.id > %(after_id)s AND plan.id <= %(up_to_id)s
              AND line.amount > 0
            ON CONFLICT DO NOTHING
            """,  # nosec B608  # SQL from module constants; every value is a parameter
            {**parameters, "after_id": after_id, "up_to_id": up_to_id},
        )
        return cursor.rowcount


def _insert_carried_lines(parameters: dict) -> int:
    """Failed or unclaimed lines that a finance officer chose to carry into this month."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO payments_payment
                (batch_id, plan_id, case_id, period, amount, currency, funding_source_id, status,
                 method, reference, acknowledged, carry_forward, carried_from_id, payee_method,
                 payee_account)
            SELECT batch.id, carried.plan_id, carried.case_id, %(period)s, carried.amount,
                   carried.currency, carried.funding_source_id, 'pending', '', NULL, false, false,
                   carried.id, COALESCE(plan.payout_method, carried.payee_method),
                   CASE WHEN plan.id IS NULL THEN carried.payee_account
                        ELSE plan.payout_account END
            FROM payments_payment AS carried
            LEFT JOIN payments_stipendplan AS plan ON plan.id = carried.plan_id
            JOIN payments_disbursementbatch AS batch
              ON batch.period = %(period)s AND batch.currency = carried.currency
             AND batch.status = 'draft'
            WHERE {_UNCARRIED}
            ON CONFLICT DO NOTHING
            """,  # nosec B608  # SQL from module constants; every value is a parameter
            parameters,
        )
        return cursor.rowcount


def _refresh_totals(period: datetime.date) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE payments_disbursementbatch AS batch
            SET total = COALESCE(lines.total, 0), line_count = COALESCE(lines.count, 0),
                run_completed_at = now()
            FROM (SELECT batch.id,
                         (SELECT SUM(amount) FROM payments_payment
                          WHERE batch_id = batch.id AND status <> 'cancelled') AS total,
                         (SELECT COUNT(*) FROM payments_payment
                          WHERE batch_id = batch.id AND status <> 'cancelled') AS count
                  FROM payments_disbursementbatch AS batch
                  WHERE batch.period = %s AND batch.status = 'draft') AS lines
            WHERE batch.id = lines.id
            """,
            [period],
        )


def disbursement_run(
    *,
    period: datetime.date,
    actor: User | None = None,
    chunk_size: int | None = None,
    run_id: str = "",
    schedule: str = "",
) -> list[DisbursementBatch]:
    """Create (or complete) the month's draft batches: one line per eligible plan.

    `actor` is the finance officer who started it, or None for the scheduler, whose schedule is
    named by `schedule`. Called outside a transaction (as the task does), each chunk of plans
    commits on its own, so memory stays bounded and a crash loses nothing: the next run inserts
    only what is missing (the unique (plan, month) index refuses the rest).

    Every line's creation event in the history names the run: who started it or which schedule,
    the month, and `run_id` (the task's id; a fresh one when not given). The history of lines is
    written by one statement per chunk (statement-level triggers), not row by row.
    """
    if actor is not None:
        _refuse_and_log(actor, "payments.run_disbursement", "run.start")
        # The preparer is the first eye of the batch's four eyes.
        require_settled(actor, "payments.run_disbursement")
    if period.day != 1:
        raise PaymentError(_("A run pays a whole month: give its first day."))
    if period > month_of(timezone.localdate()) + datetime.timedelta(days=31):
        raise PaymentError(_("A run cannot be started more than a month ahead."))
    chunk_size = chunk_size or settings.HAVEN_DISBURSEMENT_CHUNK_SIZE
    last = month_end(period)
    parameters = {
        "period": period,
        "month_end": last,
        "days_in_month": last.day,
        "actor": actor.pk if actor else None,
    }
    context = {"action": RUN_ACTION, "period": f"{period:%Y-%m}", "run": run_id or uuid.uuid4().hex}
    if schedule:
        context["schedule"] = schedule
    with audit_context(actor=actor, **context):
        _ensure_batches(parameters)
        bounds = StipendPlan.objects.aggregate(low=Min("pk"), high=Max("pk"))
        if bounds["high"] is not None:
            after = bounds["low"] - 1
            while after < bounds["high"]:
                _insert_plan_lines(parameters, after, after + chunk_size)
                after += chunk_size
        _insert_carried_lines(parameters)
        _refresh_totals(period)
    batches = list(
        DisbursementBatch.objects.filter(period=period).exclude(status=BatchStatus.REJECTED)
    )
    for batch in batches:
        if batch.status == BatchStatus.DRAFT and batch.line_count:
            transaction.on_commit(lambda batch_id=batch.pk: _notify_batch_ready(batch_id))
    return batches


def _notify_batch_ready(batch_id: int) -> None:
    """Without the broker the approvers are not e-mailed (logged at ERROR); the batch still
    waits for them on their dashboard."""
    queue_task(notify_batch_ready, batch_id=batch_id)
