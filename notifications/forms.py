"""The form of a new alert target."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm
from notifications import channels
from notifications.models import Severity


class TargetForm(StyledForm):
    label = forms.CharField(
        max_length=100,
        label=_("Name"),
        help_text=_("For you, e.g. “My Signal”."),
    )
    url = forms.CharField(
        max_length=1000,
        label=_("Apprise URL"),
        help_text=_(
            "For example tgram://bot-token/chat-id or signal://signal-cli-host:8080/+from/+to. "
            "It is stored encrypted and never shown again."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    min_severity = forms.ChoiceField(
        choices=Severity.choices,
        initial=Severity.WARNING,
        label=_("Send alerts from"),
        help_text=_("Alerts of this severity and above are sent here; all of them stay in Haven."),
    )
    keep_if_test_fails = forms.BooleanField(
        required=False,
        label=_("Keep it even if the test alert does not get through"),
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            channels.describe(url)
        except channels.TargetError as error:
            raise forms.ValidationError(str(error)) from error
        return url
