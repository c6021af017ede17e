"""Forms of the case pages: they parse and check input; the services in cases/services/ make
every change and check it again."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm
from accounts.models import User
from cases.choices import (
    CheckResult,
    EvidenceKind,
    Force,
    ItemType,
    JourneyStage,
    PartnerType,
    RankGroup,
    ReferralStatus,
    Region,
    Relation,
    Status,
)
from cases.models import (
    BreakGlassOutcome,
    BreakGlassReason,
    Case,
    ErasureReason,
    ErasureRequest,
    Partner,
)
from cases.selectors import CaseFilters
from cases.services.evidence import evidence_content_type
from protection.blind_indexes import western_digits

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DECISIONS = [(Status.VERIFIED, Status.VERIFIED.label), (Status.REJECTED, Status.REJECTED.label)]


def _case_field(name: str, **overrides: Any) -> forms.Field:
    """The form field of a Case model field, with its label and limits."""
    return Case._meta.get_field(name).formfield(**overrides)


# --- the case list -----------------------------------------------------------------------------


def _choices_with_any(choices) -> list[tuple[str, Any]]:
    return [("", _("Any")), *choices]


class CaseFilterForm(forms.Form):
    """The list's search and filters. A bad value is dropped, never shown as an error."""

    q = forms.CharField(label=_("Case code or service / ID number"), required=False, max_length=60)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_choices_with_any([]))
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    force = forms.ChoiceField(label=_("Force"), required=False)
    rank_group = forms.ChoiceField(label=_("Rank group"), required=False)
    region = forms.ChoiceField(label=_("State or region"), required=False)
    month = forms.RegexField(
        label=_("Month of first contact"), required=False, regex=r"^[0-9]{4}-(0[1-9]|1[0-2])$"
    )
    weapons = forms.ChoiceField(
        label=_("Weapons"),
        required=False,
        choices=[("", _("Any")), ("yes", _("With weapons")), ("no", _("Without weapons"))],
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # Myanmar digits in a case code, a number or a month are the same as Western ones.
        if data is not None:
            data = {
                name: western_digits(value) if name in ("q", "month") else value
                for name, value in data.items()
            }
        super().__init__(data, **kwargs)
        self.fields["status"].choices = _choices_with_any(Status.choices)
        self.fields["stage"].choices = _choices_with_any(JourneyStage.choices)
        self.fields["force"].choices = _choices_with_any(Force.choices)
        self.fields["rank_group"].choices = _choices_with_any(RankGroup.choices)
        self.fields["region"].choices = _choices_with_any(Region.choices)

    def valid_values(self) -> dict[str, str]:
        """The values that passed their checks; the others are ignored."""
        self.is_valid()
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self.fields and value not in ("", None)
        }

    def filters(self) -> CaseFilters:
        values = self.valid_values()
        month = None
        if "month" in values:
            year, number = values["month"].split("-")
            month = datetime.date(int(year), int(number), 1)
        weapons = {"yes": True, "no": False}.get(values.get("weapons", ""))
        return CaseFilters(
            query=values.get("q", ""),
            status=values.get("status", ""),
            stage=values.get("stage", ""),
            force=values.get("force", ""),
            rank_group=values.get("rank_group", ""),
            region=values.get("region", ""),
            month=month,
            has_weapons=weapons,
        )


# --- intake and edit ---------------------------------------------------------------------------


class CaseDetailsForm(StyledForm):
    """Identity and contact details of a case: the first intake step, and the edit page."""

    real_name = _case_field("real_name", required=True, widget=forms.TextInput)
    alias = _case_field("alias", widget=forms.TextInput)
    date_of_birth = _case_field("date_of_birth", widget=DATE_WIDGET)
    phone = _case_field("phone", widget=forms.TextInput)
    service_number = _case_field("service_number", widget=forms.TextInput)
    national_id = _case_field("national_id", widget=forms.TextInput)
    contact_date = _case_field("contact_date", widget=DATE_WIDGET)
    channel = _case_field("channel")
    region = _case_field("region")
    township = _case_field("township", widget=forms.TextInput)
    force = _case_field("force")
    rank = _case_field("rank")
    unit_type = _case_field("unit_type")
    unit = _case_field("unit", widget=forms.TextInput)
    defection_date = _case_field("defection_date", widget=DATE_WIDGET)
    urgency = _case_field("urgency")
    risk_level = _case_field("risk_level")
    family_whereabouts = _case_field("family_whereabouts", widget=forms.Textarea(attrs={"rows": 2}))
    intake_notes = _case_field("intake_notes", widget=forms.Textarea(attrs={"rows": 4}))
    confirmed_not_duplicate = forms.BooleanField(
        label=_("I have checked: this is a different person."), required=False
    )

    IDENTITY_SECTION = (
        "real_name",
        "alias",
        "date_of_birth",
        "phone",
        "service_number",
        "national_id",
    )
    SERVICE_SECTION = ("force", "rank", "unit_type", "unit", "defection_date")
    CONTACT_SECTION = ("contact_date", "channel", "region", "township", "urgency", "risk_level")
    NOTES_SECTION = ("family_whereabouts", "intake_notes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_date"].initial = timezone.localdate
        self.fields["real_name"].help_text = _("Even a first name is enough for now.")
        self.fields["service_number"].help_text = _(
            "Used to find the same person if they contact us again."
        )

    def _section(self, names) -> list:
        return [self[name] for name in names]

    def identity_fields(self) -> list:
        return self._section(self.IDENTITY_SECTION)

    def service_fields(self) -> list:
        return self._section(self.SERVICE_SECTION)

    def contact_fields(self) -> list:
        return self._section(self.CONTACT_SECTION)

    def notes_fields(self) -> list:
        return self._section(self.NOTES_SECTION)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        today = timezone.localdate()
        birth = data.get("date_of_birth")
        defection = data.get("defection_date")
        contact = data.get("contact_date")
        if birth:
            if birth > today:
                self.add_error("date_of_birth", _("The date of birth cannot be in the future."))
            elif today.year - birth.year > 100:
                self.add_error("date_of_birth", _("The date of birth is more than 100 years ago."))
        if contact and contact > today:
            self.add_error("contact_date", _("The date of first contact cannot be in the future."))
        if defection:
            if defection > today:
                self.add_error(
                    "defection_date", _("The date of defection cannot be in the future.")
                )
            elif birth and defection < birth:
                self.add_error(
                    "defection_date", _("The date of defection cannot be before the date of birth.")
                )
        return data

    def case_fields(self, only_changed: bool = False) -> dict[str, Any]:
        """The cleaned values to hand to the service (without the confirmation box)."""
        names = [name for name in self.fields if name != "confirmed_not_duplicate"]
        if only_changed:
            names = [name for name in names if name in self.changed_data]
        return {name: self.cleaned_data[name] for name in names}


def case_initial(case: Case) -> dict[str, Any]:
    """A case's current values for the edit form (this decrypts: the caller logs the reveal)."""
    return {
        name: getattr(case, name)
        for name in CaseDetailsForm.base_fields
        if name != "confirmed_not_duplicate"
    }


class CaseEditForm(CaseDetailsForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def case_fields(self, only_changed: bool = True) -> dict[str, Any]:
        fields = super().case_fields(only_changed=only_changed)
        fields.pop("version", None)
        return fields


class FamilyMemberForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    relation = forms.ChoiceField(
        label=_("Relation"), choices=[("", _("Choose a relation")), *Relation.choices]
    )
    age = forms.IntegerField(
        label=_("Age"),
        required=False,
        min_value=0,
        max_value=120,
        error_messages={
            "min_value": _("Age cannot be negative."),
            "max_value": _("Age must be 120 or less."),
        },
    )
    whereabouts = forms.CharField(
        label=_("Whereabouts"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    needs_housing = forms.BooleanField(label=_("Needs housing"), required=False)


class ItemForm(StyledForm):
    # No item chosen until one is: an untouched form is told apart from one being filled in.
    item_type = forms.ChoiceField(
        label=_("Item"), choices=[("", _("Choose an item")), *ItemType.choices]
    )
    count = forms.IntegerField(
        label=_("Count"),
        min_value=1,
        max_value=1_000_000,
        initial=1,
        error_messages={"min_value": _("The count must be at least 1.")},
    )
    handed_over_to = forms.CharField(label=_("Handed over to"), required=False, max_length=200)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500)


# --- evidence ----------------------------------------------------------------------------------


class EvidenceForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind of document"), choices=EvidenceKind.choices)
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.HAVEN_EVIDENCE_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large: the limit is %(megabytes)s MB."),
                params={"megabytes": limit // (1024 * 1024)},
            )
        head = upload.read(16)
        upload.seek(0)
        if evidence_content_type(head) is None:
            raise forms.ValidationError(
                _("Only PDF, JPEG and PNG files can be stored as evidence. This file is not one.")
            )
        return upload


# --- verification and decision ----------------------------------------------------------------


class CheckForm(StyledForm):
    result = forms.ChoiceField(label=_("Result"), choices=CheckResult.choices)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecisionForm(StyledForm):
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].widget.attrs["class"] = "form-check-input"


class ReasonForm(StyledForm):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- journey, safety, referrals, notes --------------------------------------------------------


class StageForm(StyledForm):
    stage = forms.ChoiceField(label=_("New stage"), choices=JourneyStage.choices)
    reason = forms.CharField(label=_("Note (optional)"), required=False, max_length=500)


class EmergencyForm(StyledForm):
    emergency = forms.TypedChoiceField(
        coerce=lambda value: value == "on",
        choices=[("on", _("Raise")), ("off", _("Clear"))],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(label=_("Why"), max_length=500)


def case_manager_choices():
    return User.objects.with_perm(
        "cases.decide_case", backend="django.contrib.auth.backends.ModelBackend"
    ).order_by("username")


class SafetyPlanForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    safety_plan = forms.CharField(
        label=_("Safety plan"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )


class ReferralForm(StyledForm):
    partner = forms.ModelChoiceField(
        label=_("Partner organisation"),
        queryset=Partner.objects.filter(active=True).order_by("name"),
        empty_label=_("Choose from the directory"),
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=500)


class PartnerForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    partner_type = forms.ChoiceField(label=_("Partner type"), choices=PartnerType.choices)
    contact = forms.CharField(
        label=_("Contact"),
        max_length=500,
        required=False,
        help_text=_("The organisation's office contact, never a person's private one."),
    )


class ReferralStatusForm(StyledForm):
    status = forms.ChoiceField(label=_("New status"), choices=[])

    def __init__(self, *args: Any, choices=(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = list(choices) or ReferralStatus.choices


class NoteForm(StyledForm):
    text = forms.CharField(
        label=_("New note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DuplicateDismissForm(StyledForm):
    reason = forms.CharField(
        label=_("How do you know these are different people?"),
        max_length=500,
        help_text=_(
            "Write the difference you found, never a name: this note stays after an erasure."
        ),
    )


# --- erasure: each irreversible step asks for the case code to be typed ---------------------------

CONFIRMATION_HELP = _("Type the case code shown above, to be sure it is the right case.")


def _confirmation_field() -> forms.CharField:
    return forms.CharField(
        label=_("Case code"),
        max_length=20,
        help_text=CONFIRMATION_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class ErasureRequestForm(StyledForm):
    reason = forms.ChoiceField(
        label=_("Why"),
        choices=[
            (ErasureReason.PERSON_REQUEST.value, ErasureReason.PERSON_REQUEST.label),
            (ErasureReason.OTHER.value, ErasureReason.OTHER.label),
        ],
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        help_text=ErasureRequest._meta.get_field("note").help_text,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirmation = _confirmation_field()


class ErasureApproveForm(StyledForm):
    confirmation = _confirmation_field()


class ErasureRejectForm(StyledForm):
    reason = forms.CharField(
        label=_("Reason for the rejection"),
        max_length=500,
        help_text=_("For example a legal hold. Do not name or describe the person."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CaseCodeForm(StyledForm):
    code = forms.RegexField(
        label=_("Case code"),
        regex=r"^\s*[Hh][Vv]-\d{4}-\d{5}\s*$",
        max_length=20,
        error_messages={"invalid": _("A case code looks like HV-2026-00042.")},
    )

    def clean_code(self) -> str:
        return western_digits(self.cleaned_data["code"].strip().upper())


class VerifierForm(StyledForm):
    """A case manager names the verifier of a case in intake."""

    verifier = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Verifier"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["verifier"].queryset = (
            User.objects.filter(
                is_active=True,
                groups__permissions__codename="verify_case",
                groups__permissions__content_type__app_label="cases",
            )
            .distinct()
            .order_by("username")
        )
        self.fields["verifier"].label_from_instance = lambda user: user.get_username()


def case_worker_choices():
    """Active staff who work cases: who may join a case's team."""
    return (
        User.objects.filter(
            is_active=True,
            groups__permissions__codename="view_case",
            groups__permissions__content_type__app_label="cases",
        )
        .distinct()
        .order_by("username")
    )


class CaseManagerForm(StyledForm):
    """A case manager names another case manager for a case (never themselves: not offered)."""

    case_manager = forms.ModelChoiceField(
        label=_("Case manager"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody yet"),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case_manager"].queryset = case_manager_choices().exclude(pk=actor.pk)


class TeamMemberForm(StyledForm):
    user = forms.ModelChoiceField(
        label=_("Add to the team"), queryset=User.objects.none(), empty_label=_("Choose…")
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = case_worker_choices().exclude(pk=actor.pk)


class BreakGlassForm(StyledForm):
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[("", _("Choose…")), *BreakGlassReason.choices]
    )
    why = forms.CharField(
        label=_("Why, now"),
        max_length=1000,
        help_text=_(
            "What you need to see and why it cannot wait for the case's team; never the "
            "person's name. The case manager and the administrators are told at once, and "
            "someone else reviews it."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GlassReviewForm(StyledForm):
    outcome = forms.ChoiceField(
        label=_("Was opening the case justified?"),
        choices=[("", _("Choose…")), *BreakGlassOutcome.choices],
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        help_text=_("Needed when it was not justified. Never the name of a person Haven helps."),
    )
