"""Payouts: recording the outcome of a batch's lines (paid, failed, unclaimed) with the proof it
needs, and carrying a failed or unclaimed line into next month."""

from __future__ import annotations

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
