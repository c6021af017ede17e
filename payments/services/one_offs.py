"""One-off payments (rewards, relocation grants, medical costs): the reward policy's proposal,
proposing, approving by as many different approvers as the amount requires, rejecting, paying."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.cooling import require_settled
from accounts.models import User
from audit.services import audit_context
from cases.choices import Status as CaseStatus
from cases.models import Case, ItemBrought
from operations.queueing import queue_task
from payments.models import (
    FundingSource,
    LedgerAccount,
    OneOffApproval,
    OneOffKind,
    OneOffPayment,
    OneOffStatus,
    Payment,
    PaymentStatus,
    RewardPolicy,
)
from payments.money import Currency
from payments.notifications import notify_one_off_awaiting
from payments.services.common import PaymentError, _money, guarded, month_of
from payments.services.ledger import _ledger
from payments.services.payouts import _check_proof, _record


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
    submission: uuid.UUID | None = None,
) -> OneOffPayment:
    """Propose a payment for a verified case. `submission` names the form that proposed it:
    sent again (a double click, a reload), it proposes nothing and returns the first proposal.
    A case has at most one reward awaiting approval or payment (a database constraint)."""
    if kind not in OneOffKind.values:
        raise PaymentError(_("Choose the kind of payment."))
    require_settled(actor, "payments.add_oneoffpayment")
    amount = _money(amount, currency)
    if funding_source.currency != currency:
        raise PaymentError(
            _("%(source)s pays in %(currency)s.")
            % {"source": funding_source, "currency": funding_source.currency}
        )
    # The case's row is the lock of its proposals: a repeated submission waits for the first,
    # and a withdrawal waits for the proposal (or the proposal sees the case withdrawn).
    case = Case.objects.select_for_update(of=("self",)).only("pk", "code", "status").get(pk=case.pk)
    if submission is not None:
        first = OneOffPayment.objects.filter(submission=submission).first()
        if first is not None:
            if first.case_id != case.pk or first.proposed_by_id != actor.pk:
                raise PaymentError(_("This form was already used: open it again."))
            first.approvers_notified = None
            first.repeated = True
            return first
    if case.status != CaseStatus.VERIFIED:
        raise PaymentError(_("Only a verified case can receive a payment."))
    proposed_amount = None
    if kind == OneOffKind.REWARD:
        open_reward = OneOffPayment.objects.filter(
            case=case,
            kind=OneOffKind.REWARD,
            status__in=[OneOffStatus.PROPOSED, OneOffStatus.APPROVED],
        ).exists()
        if open_reward:
            raise PaymentError(
                _(
                    "This case already has a reward awaiting approval or payment: it is paid, "
                    "or rejected, before another is proposed."
                )
            )
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
            submission=submission,
        )
    one_off.repeated = False
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
    require_settled(actor, "payments.approve_batch")
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
    # Four eyes, as for a batch: whoever approved the payment does not also hand it over.
    if one_off.approvals.filter(approver=actor).exists():
        raise PaymentError(_("An approver of a payment cannot also pay it out."))
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
