"""Stipend plans, monthly batches and their lines, and one-off payments: the money going out
(the ledger is in ledger.py, the reward policies in rewards.py). Money is Decimal plus an ISO
currency code; the database refuses the states that must never exist (a line paid twice, a
batch approved by its preparer)."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.models import Case, UnderCaseKey
from payments.choices import (
    BatchStatus,
    OneOffKind,
    OneOffStatus,
    PaymentMethod,
    PaymentStatus,
    PlanStatus,
)
from payments.money import Currency
from protection.choice_labels import CachedChoiceLabels
from protection.fields import EncryptedField

MONEY = {"max_digits": 14, "decimal_places": 2}
PAYEES_REFUSAL = _("Names and wallets are shown only to the officer paying out, until it closes.")


@track_history()
class FundingSource(CachedChoiceLabels, models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    budget_per_period = models.DecimalField(_("budget per month"), null=True, blank=True, **MONEY)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("funding source")
        verbose_name_plural = _("funding sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


@track_history()
class StipendPlan(CachedChoiceLabels, models.Model):
    """A monthly stipend. A first or last month covered only in part is paid pro rata:
    amount × days covered ÷ days in the month, rounded half up to the currency's minor unit."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="stipend_plans", verbose_name=_("case")
    )
    amount = models.DecimalField(_("amount per month"), **MONEY)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.THB
    )
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=PlanStatus.choices, default=PlanStatus.ACTIVE
    )
    funding_source = models.ForeignKey(
        FundingSource,
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("funding source"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    # How the stipend is paid out, and the wallet or bank account it goes to: encrypted under
    # the case's data key (erasing the case erases it), seen only by the officer paying out a
    # batch while it is being paid (payments/rules.py).
    payout_method = models.CharField(
        _("payout method"),
        max_length=14,
        choices=PaymentMethod.choices,
        blank=True,
        default="",
        db_default="",
    )
    payout_account = EncryptedField(
        _("wallet or bank account"), blank=True, null=True, max_plaintext_length=40
    )
    # Who last set where the stipend goes, and when: that person may not approve the next batch
    # that pays it (payments/services/batches.py batch_approve).
    payout_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payout set by"),
    )
    payout_set_at = models.DateTimeField(_("payout set at"), null=True, blank=True)
    data_key = models.ForeignKey(
        "protection.DataKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("data key"),
    )

    REVEAL_RULE = "payments.see_payee"
    REVEAL_REFUSAL = PAYEES_REFUSAL

    class Meta:
        verbose_name = _("stipend plan")
        verbose_name_plural = _("stipend plans")
        ordering = ["case", "-start_date"]
        permissions = [
            ("run_disbursement", _("Can start a monthly disbursement run")),
            ("view_finance_reports", _("Can see the finance dashboard and ledger")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="plan_amount_positive"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="plan_ends_after_it_starts",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=~Q(status=PlanStatus.ENDED),
                name="one_open_plan_per_case",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "currency"]),
            # The approval page's "paid somewhere else": the few plans whose payout was set
            # since the previous batch.
            models.Index(
                fields=["payout_set_at"],
                condition=Q(payout_set_at__isnull=False),
                name="plan_payout_set_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code}: {self.amount} {self.currency}/month"

    def save(self, *args, **kwargs) -> None:
        # The wallet shares the case's data key, so that erasing the case erases it too.
        if self.data_key_id is None and self.payout_account:
            self.data_key_id = Case.objects.values_list("data_key_id", flat=True).get(
                pk=self.case_id
            )
        super().save(*args, **kwargs)


@track_history()
class DisbursementBatch(CachedChoiceLabels, models.Model):
    period = models.DateField(_("month"), help_text=_("The first day of the month paid."))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.DRAFT
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the scheduler started the run."),
        verbose_name=_("prepared by"),
    )
    prepared_at = models.DateTimeField(auto_now_add=True, verbose_name=_("prepared at"))
    run_completed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("run completed at")
    )
    total = models.DecimalField(_("total"), default=0, **MONEY)
    line_count = models.PositiveIntegerField(default=0, verbose_name=_("number of lines"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("approved at"))
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rejected by"),
    )
    rejection_reason = models.CharField(
        max_length=500, blank=True, verbose_name=_("reason for rejection")
    )
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    payout_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The finance officer who took the batch for payout; never its approver."),
        verbose_name=_("paid out by"),
    )
    payout_started_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("payout started at")
    )

    REVEAL_RULE = "payments.see_payees"
    REVEAL_REFUSAL = PAYEES_REFUSAL

    class Meta:
        verbose_name = _("disbursement batch")
        verbose_name_plural = _("disbursement batches")
        ordering = ["-period", "currency"]
        permissions = [
            ("approve_batch", _("Can approve or reject batches and one-off payments")),
            ("record_payout", _("Can record payouts")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "currency"],
                condition=~Q(status=BatchStatus.REJECTED),
                name="one_batch_per_month_and_currency",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="batch_period_is_a_month"),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | Q(prepared_by__isnull=True)
                | ~Q(approved_by=F("prepared_by")),
                name="batch_approver_is_not_preparer",
            ),
            models.CheckConstraint(
                condition=Q(rejected_by__isnull=True)
                | Q(prepared_by__isnull=True)
                | ~Q(rejected_by=F("prepared_by")),
                name="batch_rejecter_is_not_preparer",
            ),
            models.CheckConstraint(
                condition=~Q(
                    status__in=[BatchStatus.APPROVED, BatchStatus.DISBURSING, BatchStatus.CLOSED]
                )
                | (Q(approved_by__isnull=False) & Q(approved_at__isnull=False)),
                name="batch_approval_has_who_when",
            ),
            models.CheckConstraint(
                condition=~Q(status=BatchStatus.REJECTED)
                | (Q(rejected_by__isnull=False) & ~Q(rejection_reason="")),
                name="batch_rejection_has_who_why",
            ),
            models.CheckConstraint(
                condition=Q(payout_officer__isnull=True)
                | Q(approved_by__isnull=True)
                | ~Q(payout_officer=F("approved_by")),
                name="batch_payout_officer_is_not_approver",
            ),
            models.CheckConstraint(
                condition=~Q(status=BatchStatus.DISBURSING)
                | (Q(payout_officer__isnull=False) & Q(payout_started_at__isnull=False)),
                name="batch_payout_has_who_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.currency}"

    @property
    def label(self) -> str:
        return f"{self.period:%Y-%m} {self.currency}"


@track_history()
class OneOffPayment(UnderCaseKey, CachedChoiceLabels, models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="one_off_payments", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=OneOffKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    proposed_amount = models.DecimalField(
        _("amount by the reward policy"), null=True, blank=True, **MONEY
    )
    # Under the case's key, like a line's (mobile money) reference: it says who the person is.
    adjustment_reason = EncryptedField(
        _("reason for the adjustment"), blank=True, null=True, max_plaintext_length=500
    )
    description = EncryptedField(_("description"), blank=True, null=True, max_plaintext_length=500)
    funding_source = models.ForeignKey(
        FundingSource,
        on_delete=models.PROTECT,
        related_name="one_offs",
        verbose_name=_("funding source"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OneOffStatus.choices, default=OneOffStatus.PROPOSED
    )
    required_approvals = models.PositiveSmallIntegerField(
        default=1, verbose_name=_("approvals required")
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("proposed at"))
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rejected by"),
    )
    rejection_reason = EncryptedField(
        blank=True, null=True, max_plaintext_length=500, verbose_name=_("reason for rejection")
    )
    submission = models.UUIDField(
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=_("The form that proposed the payment: sending it again proposes nothing."),
        verbose_name=_("proposing submission"),
    )

    class Meta:
        verbose_name = _("one-off payment")
        verbose_name_plural = _("one-off payments")
        ordering = ["-proposed_at"]
        constraints = [
            # A reward covers the items the case brought: a second one while the first awaits
            # approval or payment is the same reward twice.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(kind="reward", status__in=["proposed", "approved"]),
                name="one_open_reward_per_case",
                violation_error_message=_(
                    "This case already has a reward awaiting approval or payment: it is paid, "
                    "or rejected, before another is proposed."
                ),
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="one_off_amount_positive"),
            models.CheckConstraint(
                condition=Q(required_approvals__gte=1) & Q(required_approvals__lte=2),
                name="one_off_one_or_two_approvers",
            ),
            models.CheckConstraint(
                condition=Q(proposed_amount__isnull=True)
                | Q(amount=F("proposed_amount"))
                | Q(adjustment_reason__isnull=False),
                name="one_off_adjustment_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code}: {self.get_kind_display()} {self.amount} {self.currency}"


@track_history()
class OneOffApproval(CachedChoiceLabels, models.Model):
    one_off = models.ForeignKey(
        OneOffPayment,
        on_delete=models.PROTECT,
        related_name="approvals",
        verbose_name=_("one-off payment"),
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approver"),
    )
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("approved at"))

    class Meta:
        verbose_name = _("one-off approval")
        verbose_name_plural = _("one-off approvals")
        constraints = [
            models.UniqueConstraint(
                fields=["one_off", "approver"], name="one_approval_per_approver"
            )
        ]

    def __str__(self) -> str:
        return _("%(payment)s approved by %(approver)s") % {
            "payment": self.one_off,
            "approver": self.approver,
        }


# The monthly run writes a month's lines by the hundred thousand: their history is set-based.
@track_history(per_statement=True)
class Payment(UnderCaseKey, CachedChoiceLabels, models.Model):
    """One line: a month of a stipend plan in a batch, or a one-off payment."""

    batch = models.ForeignKey(
        DisbursementBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("batch"),
    )
    plan = models.ForeignKey(
        StipendPlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("stipend plan"),
    )
    one_off = models.OneToOneField(
        OneOffPayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment",
        verbose_name=_("one-off payment"),
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="payments", verbose_name=_("case")
    )
    period = models.DateField(_("month"))
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    funding_source = models.ForeignKey(
        FundingSource,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("funding source"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    method = models.CharField(_("method"), max_length=14, choices=PaymentMethod.choices, blank=True)
    # Where the line is to be paid, as the batch was approved: copied from the plan by the run
    # (the ciphertext itself, under the case's key) and kept while the batch is draft; a plan's
    # wallet changed after approval is paid from the next month, never to a batch approved
    # without it.
    payee_method = models.CharField(
        _("payout method"),
        max_length=14,
        choices=PaymentMethod.choices,
        blank=True,
        default="",
        db_default="",
    )
    payee_account = EncryptedField(
        _("wallet or bank account"), blank=True, null=True, max_plaintext_length=40
    )
    reference = EncryptedField(_("reference"), blank=True, null=True, max_plaintext_length=100)
    acknowledged = models.BooleanField(_("recipient acknowledged"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("recorded at"))
    carry_forward = models.BooleanField(_("carry to next month"), default=False)
    record_token = models.UUIDField(
        null=True,
        blank=True,
        editable=False,
        db_index=True,
        help_text=_("The submission that recorded the line: sending it again records nothing."),
        verbose_name=_("recording submission"),
    )
    carried_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carried_to",
        verbose_name=_("carried over from"),
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["batch", "case__code"]
        constraints = [
            # The heart of idempotency: a plan is paid at most once a month.
            models.UniqueConstraint(
                fields=["plan", "period"],
                condition=Q(plan__isnull=False, carried_from__isnull=True)
                & ~Q(status=PaymentStatus.CANCELLED),
                name="one_payment_per_plan_and_month",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(period__day=1), name="payment_period_is_a_month"),
            models.CheckConstraint(
                condition=Q(plan__isnull=True) | Q(one_off__isnull=True),
                name="payment_is_stipend_or_one_off",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[PaymentStatus.PENDING, PaymentStatus.CANCELLED])
                | (Q(recorded_by__isnull=False) & Q(recorded_at__isnull=False)),
                name="payment_outcome_has_who_when",
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.PAID)
                | (Q(method=PaymentMethod.CASH) & Q(acknowledged=True))
                | (
                    Q(method__in=[PaymentMethod.MOBILE_MONEY, PaymentMethod.BANK_TRANSFER])
                    & Q(reference__isnull=False)
                ),
                name="payment_paid_has_proof",
            ),
            models.CheckConstraint(
                condition=Q(carry_forward=False)
                | Q(status__in=[PaymentStatus.FAILED, PaymentStatus.UNCLAIMED]),
                name="payment_only_failed_lines_carry_forward",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "status"]),
            # A batch's totals by line status (its page, the batch list) and its changes since
            # last month (the approval page) from the index alone.
            models.Index(
                fields=["batch", "status"],
                include=["id", "amount", "plan", "case", "carried_from"],
                name="payment_batch_status_totals",
            ),
        ]
        triggers = [
            # Once a batch is approved its lines keep their amount and payee; only the outcome of
            # each line may be recorded.
            pgtrigger.Trigger(
                name="approved_lines_are_locked",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(
                    "amount", "currency", "case", "plan", "batch", "period", "funding_source"
                ),
                func="""
                    IF OLD.batch_id IS NOT NULL AND EXISTS (
                        SELECT 1 FROM payments_disbursementbatch
                        WHERE id = OLD.batch_id AND status <> 'draft'
                    ) THEN
                        RAISE EXCEPTION 'Lines of an approved batch cannot change.';
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code} {self.period:%Y-%m} {self.amount} {self.currency}"

    @property
    def transfer_reference(self) -> str:
        """The line's own reference on a transfer list, which a provider's settlement file
        gives back: the line's number, nothing about the person."""
        return f"HVP-{self.pk}"
