"""Admin for payments: for looking things up, never for moving money.

- Funding sources and reward policies are edited here by administrators (their changes are
  kept in the history); they are never deleted (a funding source is made inactive, a policy
  given an end date), since plans, payments and the ledger keep referring to them.
- Plans, batches, lines, one-off payments and their approvals are read-only: they change only
  through payments/services/, which enforces the four-eyes rules and writes the ledger.
- The ledger is read-only and nothing in it can be deleted (the database refuses it too).
- People appear by case code only, and the lists are searched by case code.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from payments.models import (
    DisbursementBatch,
    FundingSource,
    LedgerEntry,
    OneOffApproval,
    OneOffPayment,
    Payment,
    RewardPolicy,
    StipendPlan,
)
from protection.admin import ReadOnlyAdmin
from protection.fields import EncryptedField


class NoDeleteAdmin(admin.ModelAdmin):
    list_per_page = 50

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentsReadOnlyAdmin(ReadOnlyAdmin):
    """Every clear field shown, none editable; foreign keys shown as their labels, not as
    pickers. Encrypted fields (what was written about the person, a mobile money reference) are
    left out: the admin is open to auditors, who see no identities; finance staff see them on the
    payment pages."""

    list_per_page = 50

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*(super().get_exclude(request, obj) or []), *self.encrypted_fields()]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        hidden = set(self.encrypted_fields())
        return [
            field.name for field in self.model._meta.concrete_fields if field.name not in hidden
        ]

    def encrypted_fields(self) -> list[str]:
        return [
            field.name
            for field in self.model._meta.concrete_fields
            if isinstance(field, EncryptedField)
        ]


@admin.register(FundingSource)
class FundingSourceAdmin(NoDeleteAdmin):
    list_display = ["name", "currency", "budget_per_period", "active"]
    list_filter = ["currency", "active"]
    search_fields = ["name"]
    fields = ["name", "currency", "budget_per_period", "active"]

    def get_readonly_fields(self, request: HttpRequest, obj: FundingSource | None = None):
        # Plans and the ledger count in the source's currency: it is chosen once.
        return ["currency"] if obj is not None and obj.pk else []


@admin.register(RewardPolicy)
class RewardPolicyAdmin(NoDeleteAdmin):
    list_display = ["item_type", "amount", "currency", "validity"]
    list_filter = ["item_type", "currency"]
    fields = ["item_type", "amount", "currency", "validity"]


@admin.register(StipendPlan)
class StipendPlanAdmin(PaymentsReadOnlyAdmin):
    list_display = [
        "case_code",
        "amount",
        "currency",
        "start_date",
        "end_date",
        "status",
        "funding_source",
    ]
    list_filter = ["status", "currency", "funding_source"]
    search_fields = ["case__code"]
    list_select_related = ["case", "funding_source"]
    # The wallet or account is shown only to the officer paying out (payments/rules.py).
    exclude = ["payout_account", "data_key"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        hidden = set(self.exclude)
        return [
            name for name in super().get_readonly_fields(request, obj) if name not in hidden
        ] + ["account_on_file"]

    @admin.display(description=_("case code"), ordering="case__code")
    def case_code(self, obj: StipendPlan) -> str:
        return obj.case.code

    @admin.display(description=_("wallet or bank account"), boolean=True)
    def account_on_file(self, obj: StipendPlan) -> bool:
        return StipendPlan.objects.filter(pk=obj.pk, payout_account__isnull=False).exists()


@admin.register(DisbursementBatch)
class DisbursementBatchAdmin(PaymentsReadOnlyAdmin):
    list_display = [
        "period",
        "currency",
        "status",
        "line_count",
        "total",
        "prepared_by",
        "approved_by",
        "closed_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["lines__case__code"]
    list_select_related = ["prepared_by", "approved_by"]
    date_hierarchy = "period"


@admin.register(Payment)
class PaymentAdmin(PaymentsReadOnlyAdmin):
    list_display = [
        "case_code",
        "period",
        "amount",
        "currency",
        "status",
        "method",
        "recorded_by",
        "batch",
    ]
    list_filter = ["status", "method", "currency"]
    search_fields = ["case__code"]
    list_select_related = ["case", "recorded_by", "batch"]

    @admin.display(description=_("case code"), ordering="case__code")
    def case_code(self, obj: Payment) -> str:
        return obj.case.code


@admin.register(OneOffPayment)
class OneOffPaymentAdmin(PaymentsReadOnlyAdmin):
    list_display = [
        "case_code",
        "kind",
        "amount",
        "currency",
        "status",
        "required_approvals",
        "proposed_by",
        "proposed_at",
    ]
    list_filter = ["status", "kind", "currency"]
    search_fields = ["case__code"]
    list_select_related = ["case", "proposed_by"]

    @admin.display(description=_("case code"), ordering="case__code")
    def case_code(self, obj: OneOffPayment) -> str:
        return obj.case.code


@admin.register(OneOffApproval)
class OneOffApprovalAdmin(PaymentsReadOnlyAdmin):
    list_display = ["case_code", "one_off_kind", "approver", "at"]
    search_fields = ["one_off__case__code"]
    list_select_related = ["one_off__case", "approver"]

    @admin.display(description=_("case code"), ordering="one_off__case__code")
    def case_code(self, obj: OneOffApproval) -> str:
        return obj.one_off.case.code

    @admin.display(description=_("kind"))
    def one_off_kind(self, obj: OneOffApproval) -> str:
        return obj.one_off.get_kind_display()


@admin.register(LedgerEntry)
class LedgerEntryAdmin(PaymentsReadOnlyAdmin):
    list_display = ["at", "account", "amount", "currency", "funding_source", "case_code", "memo"]
    list_filter = ["account", "currency", "funding_source"]
    search_fields = ["payment__case__code", "one_off__case__code"]
    list_select_related = ["funding_source", "payment__case", "one_off__case"]
    date_hierarchy = "at"

    @admin.display(description=_("case code"))
    def case_code(self, obj: LedgerEntry) -> str:
        if obj.payment_id:
            return obj.payment.case.code
        if obj.one_off_id:
            return obj.one_off.case.code
        return ""
