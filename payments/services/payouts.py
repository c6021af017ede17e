"""Payouts: taking an approved batch for payout, recording the outcome of its lines (paid,
failed, unclaimed) with the proof it needs — once per submission, however often it is sent —
and carrying a failed or unclaimed line into next month."""

from __future__ import annotations

import uuid

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_context
from payments.models import (
    BatchStatus,
    DisbursementBatch,
    LedgerAccount,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from payments.services.common import PaymentError, guarded
from payments.services.ledger import _ledger

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
    payment: Payment,
    *,
    actor: User,
    outcome: str,
    method: str,
    reference: str,
    acknowledged: bool,
    token: uuid.UUID | None = None,
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
    payment.record_token = token
    payment.save(
        update_fields=[
            "record_token",
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


def require_payout_officer(batch: DisbursementBatch, actor: User) -> None:
    """Only the officer who took a batch for payout records, reconciles and closes it while it
    is being paid out; its approver never pays it out."""
    if batch.approved_by_id == actor.pk:
        raise PaymentError(_("The approver of a batch cannot also pay it out."))
    if batch.status == BatchStatus.DISBURSING and batch.payout_officer_id != actor.pk:
        raise PaymentError(_("Another finance officer is already paying out this batch."))


def _start_payout(batch: DisbursementBatch, actor: User) -> None:
    """An approved batch (locked by the caller) moves to disbursing, taken by `actor`: the
    finance officer who may see its payees until it closes (payments/rules.py). Anyone else is
    refused on a batch already being paid out."""
    require_payout_officer(batch, actor)
    if batch.status != BatchStatus.APPROVED:
        return
    batch.status, batch.payout_officer, batch.payout_started_at = (
        BatchStatus.DISBURSING,
        actor,
        timezone.now(),
    )
    with audit_context(actor=actor, action="batch.payout"):
        batch.save(update_fields=["status", "payout_officer", "payout_started_at"])


@guarded("payments.record_payout", "batch.payout")
def batch_take_for_payout(*, batch: DisbursementBatch, actor: User) -> DisbursementBatch:
    """Take an approved batch for payout (never one's own approval)."""
    batch = DisbursementBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in (BatchStatus.APPROVED, BatchStatus.DISBURSING):
        raise PaymentError(_("Only an approved batch can be taken for payout."))
    _start_payout(batch, actor)
    return batch


@guarded("payments.record_payout", "payment.record")
def payments_record(
    *,
    payments: list[Payment],
    actor: User,
    outcome: str,
    method: str = "",
    reference: str = "",
    acknowledged: bool = False,
    batch: DisbursementBatch | None = None,
    token: uuid.UUID | None = None,
) -> list[Payment]:
    """Record the outcome of one or more lines of one batch, all or none.

    `token` names the submission (the record form carries one): sending the same submission
    again (a double click, a reload) records nothing and returns the lines it recorded, so the
    second request says what the first did instead of "already paid"."""
    batch_ids = {payment.batch_id for payment in payments}
    if batch is not None:
        batch_ids.add(batch.pk)
    if not batch_ids:
        raise PaymentError(_("Choose at least one line."))
    if len(batch_ids) != 1 or None in batch_ids:
        raise PaymentError(_("Record lines of one batch at a time."))
    # The batch row is the submission's lock: a repeated token waits here for the first.
    batch = DisbursementBatch.objects.select_for_update().get(pk=batch_ids.pop())
    if token is not None:
        already = list(
            Payment.objects.select_related("case")
            .filter(batch=batch, record_token=token)
            .order_by("pk")
        )
        if already:
            return already
    if not payments:
        raise PaymentError(_("Choose at least one line."))
    if batch.status not in (BatchStatus.APPROVED, BatchStatus.DISBURSING):
        raise PaymentError(_("Payouts are recorded only on an approved batch."))
    locked = list(
        Payment.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk__in=[payment.pk for payment in payments], batch=batch)
        .order_by("pk")
    )
    _start_payout(batch, actor)
    with audit_context(actor=actor, action="payment.record"):
        recorded = [
            _record(
                payment,
                actor=actor,
                outcome=outcome,
                method=method,
                reference=reference,
                acknowledged=acknowledged,
                token=token,
            )
            for payment in locked
        ]
    return recorded


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
