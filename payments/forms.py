"""Forms of the payment pages. They parse and check input (amounts with payments/money.py, so the
page says what the service would say); payments/services/ makes every change and checks it
all again."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import MonthField, StyledForm
from payments.models import FundingSource, OneOffKind, PaymentMethod, PaymentStatus
from payments.money import Currency, MoneyError, validate_amount
from payments.wallets import AccountError, normalise_account
from protection.blind_indexes import western_digits

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DEFAULT_STIPEND = Decimal("1000")


class AmountField(forms.CharField):
    """An amount as typed; checked against its currency in the form's clean() (with the rules
    of payments/money.py), so "10.005 THB" and "1000.5 MMK" get the same message as in the
    service. No float ever."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)


def clean_amount(form: forms.Form, cleaned: dict, field: str = "amount") -> None:
    """Replace the typed amount by its Decimal, or mark the field with the money rule broken."""
    amount, currency = cleaned.get(field), cleaned.get("currency")
    if amount in (None, "") or not currency:
        return
    try:
        cleaned[field] = validate_amount(amount.replace(",", "").strip(), currency)
    except MoneyError as error:
        form.add_error(field, str(error))


class FundingSourceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: FundingSource) -> str:
        return f"{obj.name} ({obj.currency})"


# --- plans --------------------------------------------------------------------------------------


class PlanForm(StyledForm):
    amount = AmountField(label=_("Amount per month"), initial="1000.00")
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices, initial="THB")
    start_date = forms.DateField(label=_("First day"), widget=DATE_WIDGET)
    end_date = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Leave empty for a plan without an end. Partial months are paid pro rata."),
    )
    funding_source = FundingSourceChoiceField(
        label=_("Funding source"), queryset=FundingSource.objects.none()
    )
    payout_method = forms.ChoiceField(
        label=_("Payout method"),
        required=False,
        choices=[("", _("— not yet known —")), *PaymentMethod.choices],
    )
    payout_account = forms.CharField(
        label=_("Wallet or bank account"),
        max_length=40,
        required=False,
        help_text=_(
            "A Thai or Myanmar mobile number for mobile money, the account number for a bank "
            "transfer; empty for cash. Stored encrypted; shown only on payout day."
        ),
    )

    def __init__(self, *args: Any, funding_sources=None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"start_date": timezone.localdate().replace(day=1)})
        super().__init__(*args, **kwargs)
        if funding_sources is not None:
            self.fields["funding_source"].queryset = funding_sources

    def clean(self) -> dict:
        cleaned = super().clean()
        clean_amount(self, cleaned)
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("A plan cannot end before it starts."))
        source, currency = cleaned.get("funding_source"), cleaned.get("currency")
        if source and currency and source.currency != currency:
            self.add_error(
                "funding_source",
                _("%(source)s pays in %(currency)s.")
                % {"source": source.name, "currency": source.currency},
            )
        clean_payout(self, cleaned)
        return cleaned


def clean_payout(form: forms.Form, cleaned: dict) -> None:
    try:
        cleaned["payout_account"] = normalise_account(
            cleaned.get("payout_method", ""), cleaned.get("payout_account", "")
        )
    except AccountError as error:
        form.add_error("payout_account", str(error))


class PayoutForm(StyledForm):
    """Where a plan's stipend goes."""

    payout_method = PlanForm.base_fields["payout_method"]
    payout_account = PlanForm.base_fields["payout_account"]

    def clean(self) -> dict:
        cleaned = super().clean()
        clean_payout(self, cleaned)
        return cleaned


# --- the monthly run and the batch --------------------------------------------------------------


class RunForm(StyledForm):
    period = MonthField(label=_("Month to pay"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"period": timezone.localdate().replace(day=1)})
        super().__init__(*args, **kwargs)

    def clean_period(self) -> datetime.date:
        # The service's rule, checked here too: the task would refuse it out of sight.
        period = self.cleaned_data["period"]
        this_month = timezone.localdate().replace(day=1)
        if period > this_month + datetime.timedelta(days=31):
            raise forms.ValidationError(_("A run cannot be started more than a month ahead."))
        return period


class RejectForm(StyledForm):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


OUTCOME_CHOICES = [
    (PaymentStatus.PAID, PaymentStatus.PAID.label),
    (PaymentStatus.FAILED, PaymentStatus.FAILED.label),
    (PaymentStatus.UNCLAIMED, PaymentStatus.UNCLAIMED.label),
]


class RecordForm(StyledForm):
    """The outcome of the chosen pending lines of a batch (the view reads which lines: ticked,
    kept across pages, or all); all or none are recorded."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOME_CHOICES)
    method = forms.ChoiceField(
        label=_("Method"),
        required=False,
        choices=[("", _("— choose —")), *PaymentMethod.choices],
    )
    reference = forms.CharField(
        label=_("Mobile money or bank reference"), max_length=100, required=False
    )
    acknowledged = forms.BooleanField(
        label=_("The recipient acknowledged receiving the cash"), required=False
    )


class CloseForm(StyledForm):
    carry_forward = forms.BooleanField(
        label=_("Carry the failed and unclaimed lines into next month's run"), required=False
    )


class SettlementForm(StyledForm):
    file = forms.FileField(
        label=_("Settlement file (CSV)"),
        help_text=_(
            "The provider's file with the columns reference (HVP-…), transaction, status "
            "(paid, failed or unclaimed) and, if it has one, amount."
        ),
        error_messages={"required": _("Choose the settlement file.")},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The settlement file is larger than 2 MB."))
        return upload


class MethodForm(StyledForm):
    """How an approved one-off payment was paid."""

    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(
        label=_("Mobile money or bank reference"), max_length=100, required=False
    )
    acknowledged = forms.BooleanField(
        label=_("The recipient acknowledged receiving the cash"), required=False
    )


# --- one-off payments ---------------------------------------------------------------------------


class CaseCodeForm(StyledForm):
    code = forms.CharField(label=_("Case code"), max_length=16)

    def clean_code(self) -> str:
        return western_digits(self.cleaned_data["code"].strip().upper())


class OneOffForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=OneOffKind.choices)
    amount = AmountField(label=_("Amount"))
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    funding_source = FundingSourceChoiceField(
        label=_("Funding source"), queryset=FundingSource.objects.none()
    )
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    adjustment_reason = forms.CharField(
        label=_("Reason for paying a different amount than the reward policy"),
        max_length=500,
        required=False,
    )
    # Names this form: sent twice, it proposes one payment (payments.services.one_off_propose).
    submission = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, funding_sources=None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("submission", uuid.uuid4())
        super().__init__(*args, **kwargs)
        if funding_sources is not None:
            self.fields["funding_source"].queryset = funding_sources

    def clean(self) -> dict:
        cleaned = super().clean()
        clean_amount(self, cleaned)
        source, currency = cleaned.get("funding_source"), cleaned.get("currency")
        if source and currency and source.currency != currency:
            self.add_error(
                "funding_source",
                _("%(source)s pays in %(currency)s.")
                % {"source": source.name, "currency": source.currency},
            )
        return cleaned


# --- the ledger ---------------------------------------------------------------------------------


class LedgerFilterForm(StyledForm):
    """The ledger's filters. A bad value is shown as an error and the filter left out."""

    funding_source = FundingSourceChoiceField(
        label=_("Funding source"),
        queryset=FundingSource.objects.order_by("name"),
        required=False,
        empty_label=_("Any"),
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[("", _("Any")), *Currency.choices], required=False
    )
    month = MonthField(label=_("Month"), required=False)
