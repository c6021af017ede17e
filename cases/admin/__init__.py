"""Admin for cases: for looking things up and correcting details, never for moving a case
through its workflow.

- Identity (encrypted) fields are shown masked and read-only to admin users outside the case's
  team (cases/rules.py); to the team they are shown and editable, within the reveal budget, and
  the viewing is logged (cases/admin/protected.py). Outside the team, township, unit type and
  exact dates are shown coarse, in the form, the list and the history.
- Status, decisions, the people who took them, journey and emergency changes are read-only:
  they change only through the services in cases/services/, which enforce the four-eyes rules.
- Case details are saved through `services.case_update` (stale-edit, date and duplicate checks).
- Nothing can be added or deleted here: cases are taken in on the case pages and withdrawn,
  never deleted.
- Search is by case code only: encrypted fields cannot be searched in SQL by design.
- Case teams and break-the-glass uses are read-only here: they change on the case pages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import services
from cases.admin.protected import ProtectedFieldsAdmin
from cases.choices import Status
from cases.models import (
    BreakGlass,
    Case,
    CaseCodeCounter,
    CaseNote,
    CaseTeamMember,
    DuplicateDismissal,
    ErasureRequest,
    Evidence,
    FamilyMember,
    ItemBrought,
    JourneyEvent,
    Partner,
    Referral,
    VerificationCheck,
)
from cases.services.intake import IDENTIFYING_FIELDS, IDENTITY_FIELDS, _check_dates
from cases.services.lookups import LookupRefused, protected_lookup
from protection.admin import ReadOnlyAdmin


def _related_links(case: Case) -> str:
    links = [
        (model, _("%(things)s of this case") % {"things": model._meta.verbose_name_plural})
        for model in (
            FamilyMember,
            ItemBrought,
            Evidence,
            VerificationCheck,
            Referral,
            CaseNote,
            JourneyEvent,
        )
    ]
    return format_html_join(
        " · ",
        '<a href="{}?case__id__exact={}">{}</a>',
        (
            (
                reverse(f"admin:cases_{model._meta.model_name}_changelist"),
                case.pk,
                label,
            )
            for model, label in links
        ),
    )


class CaseAdminForm(forms.ModelForm):
    """The case form, with the version it was opened at, so that a stale edit is refused."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=True)
    actor = None  # set per request by CaseAdmin.get_form
    request = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "expected_version" in self.fields:
            self.fields["expected_version"].initial = self.instance.version

    def changed_case_fields(self) -> dict[str, Any]:
        """The case details this form changes, as `services.case_update` takes them."""
        return {
            name: self.cleaned_data[name]
            for name in self.changed_data
            if name in services.EDITABLE_FIELDS and name in self.cleaned_data
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        case = self.instance
        if "expected_version" in self.fields and cleaned.get("expected_version") != case.version:
            raise forms.ValidationError(services.STALE_EDIT_MESSAGE)
        if not case.is_open:
            raise forms.ValidationError(_("A closed case cannot be edited; re-open it first."))
        if case.status != Status.INTAKE and not self.actor.has_perm("cases.decide_case"):
            raise forms.ValidationError(_("Only a case manager can edit a case after intake."))
        fields = self.changed_case_fields()
        # The same checks the service makes, here so that they show as form errors.
        try:
            _check_dates(fields, case)
        except services.CaseError as error:
            raise forms.ValidationError(str(error)) from error
        if IDENTIFYING_FIELDS & set(fields):
            # Checking duplicates by a protected value is a look-up: logged and limited.
            try:
                protected_lookup(
                    actor=self.actor, kind="admin duplicate check", request=self.request
                )
            except LookupRefused as refusal:
                raise forms.ValidationError(str(refusal)) from refusal
        hard = services.duplicate_matches(
            service_number=fields.get("service_number"),
            national_id=fields.get("national_id"),
            exclude=case,
        )
        if hard:
            raise forms.ValidationError(
                _(
                    "This service or ID number is already on file in another case. "
                    "Check the existing case before going on."
                )
            )
        soft = ("real_name" in fields or "date_of_birth" in fields) and (
            services.name_and_birth_matches(
                real_name=fields.get("real_name", case.real_name),
                date_of_birth=fields.get("date_of_birth", case.date_of_birth),
                exclude=case,
            )
        )
        if soft:
            raise forms.ValidationError(
                _(
                    "A case with the same name and date of birth exists. Confirm that this "
                    "is a different person on the case pages."
                )
            )
        return cleaned


@admin.register(Case)
class CaseAdmin(ProtectedFieldsAdmin):
    form = CaseAdminForm
    list_display = [
        "code",
        "status",
        # The exact day, beside the coarse facts, narrows a person down: the month, for all.
        "first_contact_month",
        "force",
        "rank_group",
        "region",
        "journey_stage",
        "emergency",
    ]
    # Clear columns only: a filter on an encrypted field would test guesses against it.
    list_filter = [
        "status",
        "force",
        "rank_group",
        "region",
        "journey_stage",
        "emergency",
        "urgency",
        "risk_level",
        "channel",
    ]
    search_fields = ["code"]
    list_select_related = False

    @admin.display(
        description=Case._meta.get_field("contact_date").verbose_name, ordering="contact_month"
    )
    def first_contact_month(self, case: Case) -> str:
        return formats.date_format(case.contact_month, "YEAR_MONTH_FORMAT")

    # Clear details; the case's identity (for revealers) is limited to what case_update edits.
    editable_clear_fields = frozenset(services.EDITABLE_FIELDS) - {"intake_notes"}
    editable_protected_fields = frozenset(services.EDITABLE_FIELDS)
    form_only_fields = frozenset({"expected_version"})
    fieldsets = [
        (
            gettext_lazy("Case"),
            {"fields": ["code", "status", "status_reason", "created_at", "updated_at", "related"]},
        ),
        (
            gettext_lazy("Contact and statistics"),
            {
                "fields": [
                    "contact_date",
                    "channel",
                    "region",
                    "township",
                    "force",
                    "rank",
                    "rank_group",
                    "unit_type",
                    "defection_date",
                    "urgency",
                    "risk_level",
                ]
            },
        ),
        (
            gettext_lazy("Identity"),
            {"fields": [*IDENTITY_FIELDS, "intake_notes"]},
        ),
        (
            gettext_lazy("Journey and safety (change on the case pages)"),
            {"fields": ["journey_stage", "emergency", "emergency_since", "safety_plan"]},
        ),
        (
            gettext_lazy("Verification (change on the case pages)"),
            {
                "fields": [
                    "intake_officer",
                    "verifier",
                    "case_manager",
                    "proposed_decision",
                    "proposal_reason",
                    "decided_by",
                    "decided_at",
                    "decision_reason",
                ]
            },
        ),
        (gettext_lazy("History"), {"fields": ["history"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and self.has_change_permission(request, obj):
            title, options = fieldsets[0]
            fieldsets = [
                (title, {**options, "fields": [*options["fields"], "expected_version"]}),
                *fieldsets[1:],
            ]
        return fieldsets

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The same rule as services.case_update: closed cases are not edited, and after intake
        # only a case manager edits.
        if obj is not None and (
            not obj.is_open
            or (obj.status != Status.INTAKE and not request.user.has_perm("cases.decide_case"))
        ):
            return False
        return super().has_change_permission(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor, form.request = request.user, request
        return form

    @admin.display(description=gettext_lazy("related records"))
    def related(self, obj: Case) -> str:
        return _related_links(obj) if obj is not None and obj.pk else ""

    def save_model(self, request: HttpRequest, obj: Case, form: CaseAdminForm, change: bool):
        # The service locks the case, re-checks version, dates and duplicates, bumps the
        # version and names the actor in the history.
        fields = form.changed_case_fields()
        if fields:
            services.case_update(
                case=obj,
                actor=request.user,
                version=form.cleaned_data["expected_version"],
                **fields,
            )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.CaseError as error:
            # Only when someone else saved between the form's checks and the save.
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(FamilyMember)
class FamilyMemberAdmin(ProtectedFieldsAdmin):
    list_display = ["case_code", "relation", "age", "needs_housing", "created_at"]
    list_filter = ["relation", "needs_housing"]
    search_fields = ["case__code"]


@admin.register(ItemBrought)
class ItemBroughtAdmin(ProtectedFieldsAdmin):
    list_display = ["case_code", "category", "item_type", "count", "recorded_at"]
    list_filter = ["category", "item_type"]
    search_fields = ["case__code"]


@admin.register(Evidence)
class EvidenceAdmin(ProtectedFieldsAdmin):
    list_display = ["case_code", "kind", "content_type", "size", "uploaded_at"]
    list_filter = ["kind", "content_type"]
    search_fields = ["case__code"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The storage name locates the encrypted file on disk; no one needs it here.
        return [name for name in super().get_fields(request, obj) if name != "storage_name"]


@admin.register(VerificationCheck)
class VerificationCheckAdmin(ProtectedFieldsAdmin):
    list_display = ["case_code", "item", "result", "checked_by", "checked_at"]
    list_filter = ["item", "result"]
    search_fields = ["case__code"]
    list_select_related = ["case", "checked_by"]


@admin.register(Referral)
class ReferralAdmin(ProtectedFieldsAdmin):
    list_display = ["case_code", "partner", "status", "created_at"]
    list_filter = ["partner__partner_type", "status"]
    search_fields = ["case__code", "partner__name"]
    list_select_related = ["case", "partner"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    """The partner directory, to look up: partners are added and retired on its page."""

    list_display = ["name", "partner_type", "active", "created_at"]
    list_filter = ["partner_type", "active"]
    search_fields = ["name"]
    readonly_fields = ["name", "partner_type", "contact", "active", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CaseNote)
class CaseNoteAdmin(ProtectedFieldsAdmin):
    list_display = ["case_code", "author", "created_at"]
    search_fields = ["case__code"]
    list_select_related = ["case", "author"]
    date_hierarchy = "created_at"


@admin.register(JourneyEvent)
class JourneyEventAdmin(ProtectedFieldsAdmin):
    list_display = ["case_code", "kind", "stage", "at", "by"]
    list_filter = ["kind", "stage"]
    search_fields = ["case__code"]
    list_select_related = ["case", "by"]
    date_hierarchy = "at"


@admin.register(DuplicateDismissal)
class DuplicateDismissalAdmin(ProtectedFieldsAdmin):
    list_display = ["first_case", "second_case", "dismissed_by", "dismissed_at"]
    search_fields = ["first_case__code", "second_case__code"]
    list_select_related = ["first_case", "second_case", "dismissed_by"]


@admin.register(CaseCodeCounter)
class CaseCodeCounterAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_number"]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdmin):
    """Read-only: requests are made, approved and carried out on the erasure pages, where the
    two-approver rule is enforced."""

    list_display = [
        "case",
        "reason",
        "status",
        "proposed_by_rule",
        "requested_by",
        "requested_at",
        "first_approved_by",
        "second_approved_by",
        "carried_out_at",
    ]
    list_filter = ["status", "reason", "proposed_by_rule"]
    search_fields = ["case__code"]
    list_select_related = ["case", "requested_by", "first_approved_by", "second_approved_by"]
    date_hierarchy = "requested_at"


@admin.register(CaseTeamMember)
class CaseTeamMemberAdmin(ReadOnlyAdmin):
    list_display = ["case", "user", "added_by", "added_at"]
    list_select_related = ["case", "user", "added_by"]
    search_fields = ["case__code"]


@admin.register(BreakGlass)
class BreakGlassAdmin(ReadOnlyAdmin):
    # The written "why" and the review note are not shown here: they are read where the use is
    # reviewed.
    list_display = ["case", "user", "reason", "opened_at", "expires_at", "outcome", "reviewed_by"]
    list_filter = ["reason", "outcome"]
    list_select_related = ["case", "user", "reviewed_by"]
    search_fields = ["case__code"]
    fields = [*list_display, "reviewed_at"]
