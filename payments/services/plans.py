"""Stipend plans: creating a case's monthly plan, pausing, resuming or ending it, and what it
pays for a month."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_context
from cases.choices import Status as CaseStatus
from cases.models import Case
from payments.models import (
    BatchStatus,
    DisbursementBatch,
    FundingSource,
    Payment,
    PaymentStatus,
    PlanStatus,
    StipendPlan,
)
from payments.money import Currency, round_money
from payments.services.common import PaymentError, _money, guarded, month_end
from payments.wallets import AccountError, normalise_account


def _account(method: str, account: str | None) -> str:
    try:
        return normalise_account(method, account)
    except AccountError as error:
        raise PaymentError(str(error)) from error


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
    payout_method: str = "",
    payout_account: str = "",
) -> StipendPlan:
    amount = _money(amount, currency)
    payout_account = _account(payout_method, payout_account)
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
                payout_method=payout_method,
                payout_account=payout_account or None,
                payout_set_by=actor if payout_method else None,
                payout_set_at=timezone.now() if payout_method else None,
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


@guarded("payments.change_stipendplan", "plan.payout")
def plan_set_payout(
    *, plan: StipendPlan, actor: User, payout_method: str, payout_account: str = ""
) -> StipendPlan:
    """Where a plan's stipend goes: cash, or a wallet or bank account (stored encrypted)."""
    payout_account = _account(payout_method, payout_account)
    plan = StipendPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status == PlanStatus.ENDED:
        raise PaymentError(_("An ended plan cannot change."))
    if plan.payout_method == payout_method and (plan.payout_account or "") == payout_account:
        return plan  # the same again: nothing to change, nothing for an approver to check
    plan.payout_method, plan.payout_account = payout_method, payout_account or None
    plan.payout_set_by, plan.payout_set_at = actor, timezone.now()
    with audit_context(actor=actor, action="plan.payout"):
        plan.save(
            update_fields=[
                "payout_method",
                "payout_account",
                "payout_set_by",
                "payout_set_at",
                "data_key",
                "updated_at",
            ]
        )
        # A line not yet approved is paid where the plan now says (its approver will see the
        # change); a line already approved keeps what was approved. The draft batches are
        # locked as batch_approve locks them, so an approval running now either comes first
        # (its lines keep their payout) or waits and sees the change.
        drafts = list(
            DisbursementBatch.objects.select_for_update()
            .filter(
                status=BatchStatus.DRAFT,
                pk__in=Payment.objects.filter(plan=plan, status=PaymentStatus.PENDING).values(
                    "batch_id"
                ),
            )
            .values_list("pk", flat=True)
        )
        Payment.objects.filter(plan=plan, status=PaymentStatus.PENDING, batch__in=drafts).update(
            payee_method=payout_method,
            payee_account=Subquery(
                StipendPlan.objects.filter(pk=plan.pk).values("payout_account")[:1]
            ),
        )
    return plan


def approved_payouts_unchanged(*, plan: StipendPlan) -> list[datetime.date]:
    """The months of the plan's lines already approved and still to be paid: they go where
    they were approved to go, not where the plan now says."""
    return list(
        Payment.objects.filter(plan=plan, status=PaymentStatus.PENDING)
        .exclude(batch__status=BatchStatus.DRAFT)
        .order_by("period")
        .values_list("period", flat=True)
        .distinct()
    )


def plan_amount_for(plan: StipendPlan, period: datetime.date) -> Decimal:
    """What the plan pays for a month: the monthly amount pro rata to the days it covers,
    rounded half up to the currency's minor unit (the same rule as the run's SQL)."""
    last = month_end(period)
    first_day, last_day = max(plan.start_date, period), min(plan.end_date or last, last)
    if last_day < first_day:
        return Decimal(0)
    days = (last_day - first_day).days + 1
    return round_money(Decimal(str(plan.amount)) * days / last.day, plan.currency)
