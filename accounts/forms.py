"""Forms shared by every app (Bootstrap styling) and the second-factor form."""

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _


def parse_id(value: str) -> int | None:
    """A database number posted in a hidden field or put in a query string, or None. Only
    ASCII digits count: str.isdigit() also accepts "²" or "①", which int() refuses."""
    return int(value) if value.isascii() and value.isdigit() else None


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": _("Enter the 6-digit code shown in your authenticator app.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].strip()


class LoginForm(AuthenticationForm):
    """Django's login form, except that a staff member whose account an emergency lock
    switched off is told so — only once the password is right, so a guesser learns nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django sets the user name's max_length after building the field, so it is never
        # checked: a longer name would reach the lockout table (255 characters) and fail there.
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))

    def get_invalid_login_error(self) -> ValidationError:
        from accounts.emergency import locked_out_by_emergency

        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password") or ""
        if locked_out_by_emergency(username, password):
            return ValidationError(
                _("Your account is locked. Contact your administrator."), code="emergency_locked"
            )
        return super().get_invalid_login_error()


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, and invalid fields marked for screen readers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if widget.is_hidden:
                continue
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields and not self.fields[name].widget.is_hidden:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                described_by = f"{self[name].auto_id}-errors"
                if self.fields[name].help_text:
                    described_by += f" {self[name].auto_id}_helptext"
                attrs["aria-describedby"] = described_by
