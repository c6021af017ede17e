"""Forms of the erasure pages: each irreversible step asks for the case code to be typed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm
from cases.models import ErasureReason, ErasureRequest

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
        return self.cleaned_data["code"].strip().upper()
