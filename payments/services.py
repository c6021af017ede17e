"""Every change to money, in one place. Each function locks what it changes, checks permission,
state and the four-eyes rules, saves, writes the ledger in the same transaction and names the
actor in the history. The monthly run is set-based SQL in bounded, committed chunks: running it
twice, at once, or again after a crash pays every eligible plan exactly once."""

from __future__ import annotations

import datetime
import functools
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import AccessLog
from audit.services import audit_context, log_access
from cases.choices import Status as CaseStatus
from cases.models import Case, ItemBrought
from operations.queueing import queue_task
from payments.models import (
    BatchStatus,
    DisbursementBatch,
    FundingSource,
    LedgerAccount,
    LedgerEntry,
    OneOffApproval,
    OneOffKind,
    OneOffPayment,
    OneOffStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PlanStatus,
    RewardPolicy,
    StipendPlan,
)
from payments.money import MINOR_UNITS, Currency, MoneyError, round_money, validate_amount
from payments.notifications import notify_batch_ready, notify_one_off_awaiting


class PaymentError(Exception):
    """A money change refused for a reason a person can read and act on."""


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(period: datetime.date) -> datetime.date:
    return (period + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def parse_period(text: str) -> datetime.date:
    """'2026-11' → 2026-11-01, or PaymentError."""
    try:
        return datetime.datetime.strptime(text.strip(), "%Y-%m").date()
    except (ValueError, AttributeError) as error:
        raise PaymentError(_("Give the month as YYYY-MM, for example 2026-11.")) from error


def _refuse_and_log(actor: User | None, permission: str, what: str) -> None:
    """Permission failures on money are attempts worth an entry in the access log."""
    if actor is None or not actor.is_active or not actor.has_perm(permission):
        log_access(
            action=AccessLog.Action.DENIED,
            actor=actor if actor is not None and actor.pk else None,
            detail={"permission": permission, "action": what},
        )
        raise PermissionDenied(_("You do not have permission to do this."))


def guarded(permission: str, what: str):
    """Check the permission (logging a refusal, which must outlive the refused transaction)
    before running the service in a transaction of its own."""

    def decorate(function):
        in_transaction = transaction.atomic(function)

        @functools.wraps(function)
        def run(*args: Any, actor: User, **kwargs: Any):
            _refuse_and_log(actor, permission, what)
            return in_transaction(*args, actor=actor, **kwargs)

        return run

    return decorate


def _money(amount: Any, currency: str) -> Decimal:
    try:
        return validate_amount(amount, currency)
    except MoneyError as error:
        raise PaymentError(str(error)) from error


# --- stipend plans --------------------------------------------------------------------------


@guarded("payments.add_stipendplan", "plan.create")
def plan_create(
    *,
    case: Case,
    actor: User,
    amount: Any = Decimal("1000"),
    currency: str = Currency.THB,
    start_date: datetime.date,
    end_date: datetime.date | None = None,
    funding_source: FundingSource,
) -> StipendPlan:
    amount = _money(amount, currency)
    if end_date is not None and end_date < start_date:
        raise PaymentError(_("A plan cannot end before it starts."))
    if funding_source.currency != currency:
        raise PaymentError(
            _("%(source)s pays in %(currency)s.")
            % {"source": funding_source, "currency": funding_source.currency}
        )
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status != CaseStatus.VERIFIED:
        raise PaymentError(_("Only a verified case can have a stipend plan."))
    try:
        with transaction.atomic(), audit_context(actor=actor, action="plan.create"):
            return StipendPlan.objects.create(
                case=case,
                amount=amount,
                currency=currency,
                start_date=start_date,
                end_date=end_date,
                funding_source=funding_source,
                created_by=actor,
            )
    except IntegrityError as error:
        raise PaymentError(
            _("%(code)s already has a plan that has not ended.") % {"code": case.code}
        ) from error


PLAN_TRANSITIONS = {
    PlanStatus.ACTIVE: {PlanStatus.PAUSED, PlanStatus.ENDED},
    PlanStatus.PAUSED: {PlanStatus.ACTIVE, PlanStatus.ENDED},
    PlanStatus.ENDED: set(),
}


@guarded("payments.change_stipendplan", "plan.status")
def plan_set_status(*, plan: StipendPlan, actor: User, status: str) -> StipendPlan:
    plan = StipendPlan.objects.select_for_update().get(pk=plan.pk)
    if status not in PLAN_TRANSITIONS[plan.status]:
        raise PaymentError(
            _("A plan that is %(current)s cannot become %(new)s.")
            % {"current": plan.get_status_display().lower(), "new": status}
        )
    plan.status = status
    if status == PlanStatus.ENDED and (
        plan.end_date is None or plan.end_date > timezone.localdate()
    ):
        plan.end_date = max(plan.start_date, timezone.localdate())
    with audit_context(actor=actor, action="plan.status"):
        plan.save(update_fields=["status", "end_date", "updated_at"])
    return plan


def plan_amount_for(plan: StipendPlan, period: datetime.date) -> Decimal:
    """What the plan pays for a month: the monthly amount pro rata to the days it covers,
    rounded half up to the currency's minor unit (the same rule as the run's SQL)."""
    last = month_end(period)
    first_day, last_day = max(plan.start_date, period), min(plan.end_date or last, last)
    if last_day < first_day:
        return Decimal(0)
    days = (last_day - first_day).days + 1
    return round_money(Decimal(str(plan.amount)) * days / last.day, plan.currency)


# --- the monthly run ----------------------------------------------------------------------------

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


@contextmanager
def _foreign_keys_checked_at_once(cursor):
    """Django's foreign keys are checked at commit; with the history trigger's sub-transaction
    per row, PostgreSQL then rescans the queue of pending checks again and again (quadratic in
    the rows of a chunk: 12 s instead of 4.5 s for 100,000 plans). Checking them statement by
    statement keeps the run linear; the usual deferred checking comes back afterwards."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    try:
        yield
    finally:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


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


def _insert_plan_lines(parameters: dict, after_id: int, up_to_id: int) -> int:
    """One committed chunk of lines: plans with after_id < id <= up_to_id."""
    with transaction.atomic(), connection.cursor() as cursor, _foreign_keys_checked_at_once(cursor):
        cursor.execute(
            f"""
            INSERT INTO payments_payment
                (batch_id, plan_id, case_id, period, amount, currency, funding_source_id, status,
                 method, reference, acknowledged, carry_forward)
            SELECT batch.id, plan.id, plan.case_id, %(period)s, line.amount, plan.currency,
                   plan.funding_source_id, 'pending', '', '', false, false
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
    with transaction.atomic(), connection.cursor() as cursor, _foreign_keys_checked_at_once(cursor):
        cursor.execute(
            f"""
            INSERT INTO payments_payment
                (batch_id, plan_id, case_id, period, amount, currency, funding_source_id, status,
                 method, reference, acknowledged, carry_forward, carried_from_id)
            SELECT batch.id, carried.plan_id, carried.case_id, %(period)s, carried.amount,
                   carried.currency, carried.funding_source_id, 'pending', '', '', false, false,
                   carried.id
            FROM payments_payment AS carried
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
    *, period: datetime.date, actor: User | None = None, chunk_size: int | None = None
) -> list[DisbursementBatch]:
    """Create (or complete) the month's draft batches: one line per eligible plan.

    `actor` is the finance officer who started it, or None for the scheduler. Called outside a
    transaction (as the task does), each chunk of plans commits on its own, so memory stays
    bounded and a crash loses nothing: the next run inserts only what is missing (the unique
    (plan, month) index refuses the rest).
    """
    if actor is not None:
        _refuse_and_log(actor, "payments.run_disbursement", "run.start")
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
    with audit_context(actor=actor, action="payments.run", period=f"{period:%Y-%m}"):
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


# --- approval, payout, closing --------------------------------------------------------------


def _lock_batch(batch: DisbursementBatch) -> DisbursementBatch:
    return DisbursementBatch.objects.select_for_update().get(pk=batch.pk)


def _ledger(**fields: Any) -> LedgerEntry:
    return LedgerEntry.objects.create(**fields)


@guarded("payments.approve_batch", "batch.approve")
def batch_approve(*, batch: DisbursementBatch, actor: User) -> DisbursementBatch:
    """Approve a complete draft batch (never one's own): its lines are committed money."""
    batch = _lock_batch(batch)
    if batch.status != BatchStatus.DRAFT:
        raise PaymentError(_("Only a draft batch can be approved."))
    if batch.prepared_by_id == actor.pk:
        raise PaymentError(_("A batch must be approved by someone other than its preparer."))
    if batch.run_completed_at is None:
        raise PaymentError(
            _("The run for this batch has not finished; start it again to complete it.")
        )
    if not batch.line_count:
        raise PaymentError(_("An empty batch cannot be approved."))
    batch.status, batch.approved_by, batch.approved_at = BatchStatus.APPROVED, actor, timezone.now()
    with audit_context(actor=actor, action="batch.approve"):
        batch.save(update_fields=["status", "approved_by", "approved_at"])
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO payments_ledgerentry
                    (at, account, amount, currency, funding_source_id, batch_id, payment_id,
                     actor_id, memo)
                SELECT now(), 'committed', amount, currency, funding_source_id, batch_id, id, %s,
                       'batch approved'
                FROM payments_payment WHERE batch_id = %s AND status = 'pending'
                """,
                [actor.pk, batch.pk],
            )
    return batch


@guarded("payments.approve_batch", "batch.reject")
def batch_reject(*, batch: DisbursementBatch, actor: User, reason: str) -> DisbursementBatch:
    """Reject a draft (never one's own): its lines are cancelled and the month can be run again."""
    batch = _lock_batch(batch)
    if batch.status != BatchStatus.DRAFT:
        raise PaymentError(_("Only a draft batch can be rejected."))
    if batch.prepared_by_id == actor.pk:
        raise PaymentError(_("A batch must be rejected by someone other than its preparer."))
    if not reason.strip():
        raise PaymentError(_("Give a reason for rejecting the batch."))
    with audit_context(actor=actor, action="batch.reject"):
        Payment.objects.filter(batch=batch).update(status=PaymentStatus.CANCELLED)
        batch.status, batch.rejected_by, batch.rejection_reason = (
            BatchStatus.REJECTED,
            actor,
            reason.strip(),
        )
        batch.save(update_fields=["status", "rejected_by", "rejection_reason"])
    return batch


OUTCOMES = (PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.UNCLAIMED)


def _check_proof(outcome: str, method: str, reference: str, acknowledged: bool) -> None:
    if outcome != PaymentStatus.PAID:
        return
    if method not in PaymentMethod.values:
        raise PaymentError(_("Say how the money was paid."))
    if method == PaymentMethod.CASH and not acknowledged:
        raise PaymentError(
            _("Cash is recorded as paid only against the recipient's acknowledgement.")
        )
    if method != PaymentMethod.CASH and not reference.strip():
        raise PaymentError(_("Give the mobile money or bank reference."))


def _record(
    payment: Payment, *, actor: User, outcome: str, method: str, reference: str, acknowledged: bool
) -> Payment:
    if payment.status != PaymentStatus.PENDING:
        raise PaymentError(
            _("The line for %(code)s is already %(status)s.")
            % {"code": payment.case.code, "status": payment.get_status_display().lower()}
        )
    if outcome not in OUTCOMES:
        raise PaymentError(_("Record the line as paid, failed or unclaimed."))
    _check_proof(outcome, method, reference, acknowledged)
    payment.status, payment.method = (
        outcome,
        method if outcome == PaymentStatus.PAID else method or "",
    )
    payment.reference, payment.acknowledged = reference.strip(), bool(acknowledged)
    payment.recorded_by, payment.recorded_at = actor, timezone.now()
    payment.save(
        update_fields=[
            "status",
            "method",
            "reference",
            "acknowledged",
            "recorded_by",
            "recorded_at",
        ]
    )
    common = {
        "currency": payment.currency,
        "funding_source_id": payment.funding_source_id,
        "batch_id": payment.batch_id,
        "payment": payment,
        "one_off_id": payment.one_off_id,
        "actor": actor,
    }
    _ledger(
        account=LedgerAccount.COMMITTED, amount=-payment.amount, memo=f"line {outcome}", **common
    )
    target = LedgerAccount.DISBURSED if outcome == PaymentStatus.PAID else LedgerAccount.RELEASED
    _ledger(account=target, amount=payment.amount, memo=f"line {outcome}", **common)
    return payment


@guarded("payments.record_payout", "payment.record")
def payments_record(
    *,
    payments: list[Payment],
    actor: User,
    outcome: str,
    method: str = "",
    reference: str = "",
    acknowledged: bool = False,
) -> list[Payment]:
    """Record the outcome of one or more lines of one batch, all or none."""
    if not payments:
        raise PaymentError(_("Choose at least one line."))
    batch_ids = {payment.batch_id for payment in payments}
    if len(batch_ids) != 1 or None in batch_ids:
        raise PaymentError(_("Record lines of one batch at a time."))
    batch = DisbursementBatch.objects.select_for_update().get(pk=batch_ids.pop())
    if batch.status not in (BatchStatus.APPROVED, BatchStatus.DISBURSING):
        raise PaymentError(_("Payouts are recorded only on an approved batch."))
    locked = list(
        Payment.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk__in=[payment.pk for payment in payments], batch=batch)
        .order_by("pk")
    )
    with audit_context(actor=actor, action="payment.record"):
        if batch.status == BatchStatus.APPROVED:
            batch.status = BatchStatus.DISBURSING
            batch.save(update_fields=["status"])
        return [
            _record(
                payment,
                actor=actor,
                outcome=outcome,
                method=method,
                reference=reference,
                acknowledged=acknowledged,
            )
            for payment in locked
        ]


@guarded("payments.record_payout", "payment.carry_forward")
def payment_carry_forward(*, payment: Payment, actor: User) -> Payment:
    """A finance officer decides that a failed or unclaimed line is paid again next month."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status not in (PaymentStatus.FAILED, PaymentStatus.UNCLAIMED):
        raise PaymentError(_("Only a failed or unclaimed line can be carried to next month."))
    if payment.carry_forward:
        raise PaymentError(_("This line is already carried to next month."))
    payment.carry_forward = True
    with audit_context(actor=actor, action="payment.carry_forward"):
        payment.save(update_fields=["carry_forward"])
    return payment


@guarded("payments.record_payout", "batch.close")
def batch_close(*, batch: DisbursementBatch, actor: User) -> DisbursementBatch:
    batch = _lock_batch(batch)
    if batch.status not in (BatchStatus.APPROVED, BatchStatus.DISBURSING):
        raise PaymentError(_("Only an approved batch being paid out can be closed."))
    pending = Payment.objects.filter(batch=batch, status=PaymentStatus.PENDING).count()
    if pending:
        raise PaymentError(
            _("%(count)d lines are still pending: record every line before closing the batch.")
            % {"count": pending}
        )
    batch.status, batch.closed_at = BatchStatus.CLOSED, timezone.now()
    with audit_context(actor=actor, action="batch.close"):
        batch.save(update_fields=["status", "closed_at"])
    return batch


# --- one-off payments -----------------------------------------------------------------------


def reward_proposal(
    *, case: Case, on: datetime.date | None = None
) -> tuple[Decimal, str, list[tuple[str, int, Decimal]]]:
    """What the reward policy pays for the items a case brought: (total, currency, lines).
    Items without a policy on the day are left out (and listed with amount 0)."""
    on = on or case.defection_date or case.contact_date
    lines, total, currency = [], Decimal(0), Currency.MMK
    for item in ItemBrought.objects.filter(case=case).order_by("pk"):
        policy = RewardPolicy.objects.filter(
            item_type=item.item_type, validity__contains=on
        ).first()
        amount = policy.amount * item.count if policy else Decimal(0)
        if policy:
            currency = policy.currency
        lines.append((item.get_item_type_display(), item.count, amount))
        total += amount
    return total, currency, lines


def required_approvals(amount: Decimal, currency: str) -> int:
    threshold = settings.HAVEN_SECOND_APPROVER_ABOVE.get(currency)
    return 2 if threshold is not None and amount > Decimal(str(threshold)) else 1


@guarded("payments.add_oneoffpayment", "one_off.propose")
def one_off_propose(
    *,
    case: Case,
    actor: User,
    kind: str,
    amount: Any,
    currency: str,
    funding_source: FundingSource,
    description: str = "",
    adjustment_reason: str = "",
) -> OneOffPayment:
    if kind not in OneOffKind.values:
        raise PaymentError(_("Choose the kind of payment."))
    amount = _money(amount, currency)
    if funding_source.currency != currency:
        raise PaymentError(
            _("%(source)s pays in %(currency)s.")
            % {"source": funding_source, "currency": funding_source.currency}
        )
    if (
        Case.objects.filter(pk=case.pk).values_list("status", flat=True).first()
        != CaseStatus.VERIFIED
    ):
        raise PaymentError(_("Only a verified case can receive a payment."))
    proposed_amount = None
    if kind == OneOffKind.REWARD:
        proposed_amount, policy_currency, _lines = reward_proposal(case=case)
        if not proposed_amount:
            raise PaymentError(_("No reward policy covers the items this case brought."))
        if policy_currency != currency:
            raise PaymentError(
                _("Rewards are paid in %(currency)s.") % {"currency": policy_currency}
            )
        if amount != proposed_amount and not adjustment_reason.strip():
            raise PaymentError(_("Give a reason for paying a different amount than the policy's."))
    with audit_context(actor=actor, action="one_off.propose"):
        one_off = OneOffPayment.objects.create(
            case=case,
            kind=kind,
            amount=amount,
            currency=currency,
            proposed_amount=proposed_amount,
            adjustment_reason=adjustment_reason.strip(),
            description=description.strip(),
            funding_source=funding_source,
            required_approvals=required_approvals(amount, currency),
            proposed_by=actor,
        )
    # Known once the proposal is committed: False when the e-mail to the approvers could not
    # be queued, so that the proposer can be told (the dashboard still shows it to them).
    one_off.approvers_notified = None

    def notify() -> None:
        one_off.approvers_notified = _notify_one_off(one_off.pk)

    transaction.on_commit(notify)
    return one_off


def _notify_one_off(one_off_id: int) -> bool:
    return queue_task(notify_one_off_awaiting, one_off_id=one_off_id)


@guarded("payments.approve_batch", "one_off.approve")
def one_off_approve(*, one_off: OneOffPayment, actor: User) -> OneOffPayment:
    """One approval; the payment is approved once it has as many different approvers as its
    amount requires. Nobody approves their own proposal, or approves twice."""
    one_off = OneOffPayment.objects.select_for_update().get(pk=one_off.pk)
    if one_off.status != OneOffStatus.PROPOSED:
        raise PaymentError(_("Only a payment awaiting approval can be approved."))
    if one_off.proposed_by_id == actor.pk:
        raise PaymentError(_("A payment must be approved by someone other than its proposer."))
    try:
        with transaction.atomic(), audit_context(actor=actor, action="one_off.approve"):
            OneOffApproval.objects.create(one_off=one_off, approver=actor)
    except IntegrityError as error:
        raise PaymentError(
            _("You have already approved this payment; it needs another approver.")
        ) from error
    if one_off.approvals.count() >= one_off.required_approvals:
        one_off.status = OneOffStatus.APPROVED
        with audit_context(actor=actor, action="one_off.approved"):
            one_off.save(update_fields=["status"])
            _ledger(
                account=LedgerAccount.COMMITTED,
                amount=one_off.amount,
                currency=one_off.currency,
                funding_source_id=one_off.funding_source_id,
                one_off=one_off,
                actor=actor,
                memo="one-off approved",
            )
    return one_off


@guarded("payments.approve_batch", "one_off.reject")
def one_off_reject(*, one_off: OneOffPayment, actor: User, reason: str) -> OneOffPayment:
    one_off = OneOffPayment.objects.select_for_update().get(pk=one_off.pk)
    if one_off.status != OneOffStatus.PROPOSED:
        raise PaymentError(_("Only a payment awaiting approval can be rejected."))
    if one_off.proposed_by_id == actor.pk:
        raise PaymentError(_("A payment must be rejected by someone other than its proposer."))
    if not reason.strip():
        raise PaymentError(_("Give a reason for rejecting the payment."))
    one_off.status, one_off.rejected_by, one_off.rejection_reason = (
        OneOffStatus.REJECTED,
        actor,
        reason.strip(),
    )
    with audit_context(actor=actor, action="one_off.reject"):
        one_off.save(update_fields=["status", "rejected_by", "rejection_reason"])
    return one_off


@guarded("payments.record_payout", "one_off.pay")
def one_off_pay(
    *,
    one_off: OneOffPayment,
    actor: User,
    method: str,
    reference: str = "",
    acknowledged: bool = False,
) -> Payment:
    one_off = OneOffPayment.objects.select_for_update().get(pk=one_off.pk)
    if one_off.status != OneOffStatus.APPROVED:
        raise PaymentError(_("Only an approved payment can be paid."))
    _check_proof(PaymentStatus.PAID, method, reference, acknowledged)
    with audit_context(actor=actor, action="one_off.pay"):
        payment = Payment.objects.create(
            one_off=one_off,
            case_id=one_off.case_id,
            period=month_of(timezone.localdate()),
            amount=one_off.amount,
            currency=one_off.currency,
            funding_source_id=one_off.funding_source_id,
        )
        payment.case = one_off.case
        _record(
            payment,
            actor=actor,
            outcome=PaymentStatus.PAID,
            method=method,
            reference=reference,
            acknowledged=acknowledged,
        )
        one_off.status = OneOffStatus.PAID
        one_off.save(update_fields=["status"])
    return payment


# --- invariants ----------------------------------------------------------------------------


def batch_ledger_total(batch: DisbursementBatch) -> Decimal:
    return LedgerEntry.objects.filter(batch=batch).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal(0)


def batch_lines_total(batch: DisbursementBatch) -> Decimal:
    return Payment.objects.filter(batch=batch).exclude(status=PaymentStatus.CANCELLED).aggregate(
        total=Sum("amount")
    )["total"] or Decimal(0)
