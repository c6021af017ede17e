"""Admin for cases: for looking things up and correcting details, never for moving a case
through its workflow.

- Identity (encrypted) fields are shown masked and read-only to admin users without
  `accounts.reveal_identity`; with it they are shown and editable, and the viewing is logged.
- Status, decisions, the people who took them, journey and emergency changes are read-only:
  they change only through the services in cases/services/, which enforce the four-eyes rules.
- Case details are saved through `services.case_update` (stale-edit, date and duplicate checks).
- Nothing can be added or deleted here: cases are taken in on the case pages and withdrawn,
  never deleted.
- Search is by case code only: encrypted fields cannot be searched in SQL by design.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import may_reveal
from audit.models import AccessLog
from audit.selectors import usernames_by_id
from audit.services import log_access
from cases import selectors, services
from cases.choices import Status
from cases.models import (
    Case,
    CaseCodeCounter,
    CaseNote,
    DuplicateDismissal,
    ErasureRequest,
    Evidence,
    FamilyMember,
    ItemBrought,
    JourneyEvent,
    Referral,
    VerificationCheck,
)
from cases.services.intake import IDENTITY_FIELDS, _check_dates
from protection.admin import ReadOnlyAdmin
from protection.blind_indexes import BlindIndexField
from protection.fields import EncryptedDateField, EncryptedField
from protection.keys import CIPHERTEXT_PREFIX, Erased
from protection.masks import mask

MASKED_SUFFIX = "_masked"
HISTORY_LIMIT = 100


# Longer protected values are free text (notes, whereabouts, a safety plan): a word-by-word
# mask would still give away their shape, so they are hidden whole.
LONGEST_MASKED_VALUE = 200


def _masked_display(field: EncryptedField) -> Callable[[models.Model], str]:
    """A read-only admin column showing a protected field masked ("*****")."""
    free_text = not isinstance(field, EncryptedDateField) and (
        not field.max_plaintext_length or field.max_plaintext_length > LONGEST_MASKED_VALUE
    )

    def display(obj: models.Model) -> str:
        if obj is None or obj.pk is None:
            return ""
        value = getattr(obj, field.attname)
        if free_text and value not in (None, "") and not isinstance(value, Erased):
            return _("(hidden)")
        return mask(value)

    display.__name__ = field.name + MASKED_SUFFIX
    display.short_description = field.verbose_name
    return display


def _history_value(value: object) -> str:
    if isinstance(value, str) and value.startswith(CIPHERTEXT_PREFIX):
        return _("(encrypted value)")
    return "—" if value in (None, "") else str(value)


class ProtectedFieldsAdmin(admin.ModelAdmin):
    """Deny by default: every field is read-only unless listed as editable, and protected
    fields are editable (and visible) only to admin users who may reveal identity."""

    # Clear (unencrypted) fields an admin user with the change permission may edit.
    editable_clear_fields: frozenset[str] = frozenset()
    # Protected fields a revealing admin user may edit; None means all of them.
    editable_protected_fields: frozenset[str] | None = None
    # Read-only extras shown at the end of the form (methods of the admin).
    extra_readonly_fields: tuple[str, ...] = ("history",)
    # Declared form fields (not model fields) that must stay in the form.
    form_only_fields: frozenset[str] = frozenset()
    list_select_related = ["case"]
    list_per_page = 50

    def __init__(self, model: type[models.Model], admin_site: admin.AdminSite) -> None:
        super().__init__(model, admin_site)
        self.protected_fields = [
            field.name for field in model._meta.concrete_fields if isinstance(field, EncryptedField)
        ]
        self.blind_index_fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, BlindIndexField)
        ]
        for name in self.protected_fields:
            setattr(self, name + MASKED_SUFFIX, _masked_display(model._meta.get_field(name)))

    # --- who may see and change what ----------------------------------------------------------

    def may_reveal(self, request: HttpRequest) -> bool:
        return may_reveal(request.user)

    def editable_fields(self, request: HttpRequest) -> set[str]:
        editable = set(self.editable_clear_fields)
        if self.may_reveal(request):
            protected = set(self.protected_fields)
            if self.editable_protected_fields is not None:
                protected &= set(self.editable_protected_fields)
            editable |= protected
        return editable

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # No filtering on a protected field or a blind index through the URL: either would
        # let someone test a guess against the stored values.
        field_name = lookup.split("__", 1)[0]
        if field_name in self.protected_fields or field_name in self.blind_index_fields:
            return False
        return super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing this user could edit: show the record, without a save button.
        return bool(self.editable_fields(request)) and super().has_change_permission(request, obj)

    # --- the form -------------------------------------------------------------------------------

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Every stored field but the data key and the blind indexes (keyed hashes, which would
        # only help someone confirm a guessed service number).
        names = [
            field.name
            for field in self.model._meta.concrete_fields
            if not field.primary_key
            and field.name != "data_key"
            and not isinstance(field, BlindIndexField)
        ]
        return [*names, *self.extra_readonly_fields]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.may_reveal(request):
            return fieldsets
        # Without the reveal permission a protected field is replaced by its masked display.
        return [
            (
                title,
                {
                    **options,
                    "fields": [
                        name + MASKED_SUFFIX if name in self.protected_fields else name
                        for name in options["fields"]
                    ],
                },
            )
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        editable = self.editable_fields(request)
        return [
            name
            for name in flatten_fieldsets(self.get_fieldsets(request, obj))
            if name not in editable and name not in self.form_only_fields
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict,
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None and self.protected_fields and self.may_reveal(request):
            # The admin shows protected values in clear to this user: that is a reveal.
            log_access(
                action=AccessLog.Action.REVEAL,
                actor=request.user,
                request=request,
                target=obj,
                field="identity",
                detail={"via": "admin", "fields": self.protected_fields},
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- read-only extras -----------------------------------------------------------------------

    @admin.display(description=gettext_lazy("history"))
    def history(self, obj: models.Model) -> str:
        """The change history of this record: who, when, which fields, before and after.
        Encrypted values appear as "(encrypted value)", never as ciphertext."""
        if obj is None or obj.pk is None:
            return ""
        events = list(selectors.history_of(obj, limit=HISTORY_LIMIT))
        if not events:
            return _("No changes recorded.")
        names = usernames_by_id({str((event.pgh_context or {}).get("user")) for event in events})
        rows = []
        for event in events:
            context = event.pgh_context or {}
            changes = format_html_join(
                "",
                "<li>{}: {} → {}</li>",
                (
                    (field, _history_value(before), _history_value(after))
                    for field, (before, after) in sorted((event.pgh_diff or {}).items())
                    if field not in ("updated_at", "data_key")
                ),
            )
            rows.append(
                (
                    f"{timezone.localtime(event.pgh_created_at):%Y-%m-%d %H:%M}",
                    names.get(str(context.get("user")), "—"),
                    context.get("action") or event.pgh_label,
                    format_html("<ul>{}</ul>", changes) if changes else "",
                )
            )
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("When"),
            _("Who"),
            _("What"),
            _("Changes"),
            body,
        )

    @admin.display(description=gettext_lazy("case"), ordering="case__code")
    def case_code(self, obj: models.Model) -> str:
        return obj.case.code


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
        "contact_date",
        "force",
        "rank",
        "region",
        "journey_stage",
        "emergency",
    ]
    list_filter = [
        "status",
        "force",
        "region",
        "journey_stage",
        "emergency",
        "urgency",
        "risk_level",
        "channel",
    ]
    search_fields = ["code"]
    list_select_related = False

    def get_list_display(self, request: HttpRequest):
        # The exact day, beside the coarse facts, narrows a person down: the month only, to
        # those who may not reveal.
        if may_reveal(request.user):
            return self.list_display
        return [name if name != "contact_date" else "contact_month" for name in self.list_display]

    @admin.display(
        description=Case._meta.get_field("contact_date").verbose_name, ordering="contact_date"
    )
    def contact_month(self, case: Case) -> str:
        return formats.date_format(case.contact_date, "YEAR_MONTH_FORMAT")

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
        form.actor = request.user
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
    list_display = ["case_code", "partner_type", "partner_name", "status", "created_at"]
    list_filter = ["partner_type", "status"]
    search_fields = ["case__code", "partner_name"]


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
