"""Forms shared by every app (Bootstrap styling, months and a report's range of months), the
second-factor form, the confirmations of
the emergency controls, and the requests about staff."""

import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import emergency
from accounts.lockout import account_capped
from accounts.models import EmergencyLock, StaffRequest, User
from accounts.roles import Role, role_label
from protection.blind_indexes import western_digits


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

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if account_capped(username):
            # Not even checked: many failures from many places are someone guessing.
            raise ValidationError(
                _(
                    "Too many failed logins for this account in the last hour. Try again later, "
                    "or ask an administrator."
                ),
                code="account_capped",
            )
        return super().clean()

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        # However the account came to be active again, a lock in force keeps it shut.
        if emergency.is_held_by_lock(user):
            raise ValidationError(
                _("Your account is locked. Contact your administrator."), code="emergency_locked"
            )

    def get_invalid_login_error(self) -> ValidationError:
        from accounts.emergency import locked_out_by_emergency

        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password") or ""
        if locked_out_by_emergency(username, password):
            return ValidationError(
                _("Your account is locked. Contact your administrator."), code="emergency_locked"
            )
        return super().get_invalid_login_error()


NUMERIC_FIELDS = (forms.IntegerField, forms.DecimalField, forms.FloatField, forms.DateField)


def _typed_as_number(field: forms.Field) -> bool:
    """Whether a field holds a number, a date or a month as typed: its digits may be Myanmar."""
    return isinstance(field, NUMERIC_FIELDS) or field.widget.attrs.get("inputmode") in (
        "numeric",
        "decimal",
    )


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, invalid fields marked for screen readers, and one way
    to write numbers: a number is typed in a text box with a numeric keyboard (a browser's
    type="number" box drops Myanmar digits) and its digits are read as Western digits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.NumberInput):
                attrs = {
                    name: value
                    for name, value in field.widget.attrs.items()
                    if name not in ("min", "max", "step")
                }
                inputmode = "numeric" if isinstance(field, forms.IntegerField) else "decimal"
                field.widget = forms.TextInput(attrs={**attrs, "inputmode": inputmode})
        if self.is_bound:
            self.data = self._with_western_digits(self.data)
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

    def _with_western_digits(self, data):
        names = [
            self.add_prefix(name) for name, field in self.fields.items() if _typed_as_number(field)
        ]
        if not any(name in data for name in names):
            return data
        data = data.copy()
        for name in names:
            if name not in data:
                continue
            if hasattr(data, "setlist"):
                data.setlist(name, [western_digits(value) for value in data.getlist(name)])
            elif isinstance(data[name], str):
                data[name] = western_digits(data[name])
        return data

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


# --- months --------------------------------------------------------------------------------------

MONTH_FORMAT = "%Y-%m"


class MonthInput(forms.TextInput):
    """A month typed as YYYY-MM in a text box with a numeric keyboard: Chromium's month picker
    takes no Myanmar digits, and shows its own month names whatever the page's language."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(
            attrs={
                "placeholder": "YYYY-MM",
                "inputmode": "numeric",
                "maxlength": 7,
                **(attrs or {}),
            }
        )

    def format_value(self, value: Any) -> str | None:
        if hasattr(value, "strftime"):
            return value.strftime(MONTH_FORMAT)
        return super().format_value(value)


class MonthField(forms.DateField):
    """A month written YYYY-MM (Myanmar digits too), as its first day."""

    input_formats = [MONTH_FORMAT]
    widget = MonthInput
    default_error_messages = {
        "invalid": _("Enter a month as YYYY-MM, for example 2021-07."),
    }

    def to_python(self, value: Any):
        if isinstance(value, str):
            value = western_digits(value.strip())
        value = super().to_python(value)
        return value.replace(day=1) if value else value


class MonthRangeForm(StyledForm):
    """The months a report covers. A blank field takes its default: the last `default_months`
    months, this one included. A range ends this month or earlier and covers at most
    `max_months` months."""

    default_months = 12
    max_months = 120

    start = MonthField(label=_("From (month)"), required=False)
    end = MonthField(label=_("To (month)"), required=False)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        this_month = timezone.localdate().replace(day=1)
        defaults = {
            "start": this_month - relativedelta(months=self.default_months - 1),
            "end": this_month,
        }
        given = data or {}
        data = {
            name: str(given.get(name) or "").strip()[:20] or default.strftime(MONTH_FORMAT)
            for name, default in defaults.items()
        }
        super().__init__(data, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None or end is None:
            return cleaned
        if end > timezone.localdate():
            self.add_error("end", _("The end month cannot be after the current month."))
        elif start > end:
            self.add_error("start", _("The start month must not be after the end month."))
        elif start + relativedelta(months=self.max_months) <= end:
            self.add_error(
                "start",
                _("Choose a range of at most %(years)d years (%(months)d months).")
                % {"years": self.max_months // 12, "months": self.max_months},
            )
        return cleaned

    @property
    def date_from(self) -> datetime.date:
        """The first day of the start month."""
        return self.cleaned_data["start"]

    @property
    def date_to(self) -> datetime.date:
        """The last day of the end month."""
        return self.cleaned_data["end"] + relativedelta(day=31)


# --- the emergency controls' confirmations ---------------------------------------------------


class ConfirmForm(StyledForm):
    """What every emergency action asks: that the administrator understood, and the code."""

    understood = forms.BooleanField(required=True)
    code = forms.CharField(max_length=128, strip=True)

    def __init__(self, *args: Any, actor: User, understood_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["understood"].label = understood_label
        if emergency.confirmation_uses_password(actor):
            self.fields["code"].label = _("Your password, to confirm")
            self.fields["code"].widget = forms.PasswordInput(
                attrs={"class": "form-control", "autocomplete": "current-password"}
            )
        else:
            self.fields["code"].label = _("Code from your authenticator app, to confirm")
            self.fields["code"].widget.attrs.update(
                {"autocomplete": "one-time-code", "inputmode": "numeric"}
            )
        # The confirmation comes last on the page, after everything it confirms.
        self.order_fields([name for name in self.fields if name not in ("understood", "code")])


class ReasonField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=500,
            label=_("Why? (a few words, for the record)"),
            help_text=_("Never write the name of a person Haven helps."),
            widget=forms.Textarea(attrs={"rows": 2}),
            **kwargs,
        )


class LockForm(ConfirmForm):
    reason = ReasonField()


class EndSessionsForm(ConfirmForm):
    keep_own = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Keep me logged in on this computer"),
    )


class RevokeForm(ConfirmForm):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Whose device was lost?"))
    reason = ReasonField()

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["user"].queryset = emergency.revocable_users(actor)
        self.fields["user"].label_from_instance = lambda user: user.get_username()


class LiftForm(ConfirmForm):
    """Lifting a lock of every account (a lost-device lock is lifted by a request instead)."""

    keep_locked = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Keep these accounts locked (for example a stolen account)"),
    )

    def __init__(self, *args: Any, lock: EmergencyLock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keep_locked = self.fields["keep_locked"]
        keep_locked.queryset = lock.users.order_by("username")
        keep_locked.label_from_instance = lambda user: user.get_username()


# --- requests about staff, and the one-time password link ------------------------------------


class StaffRequestForm(StyledForm):
    """What an administrator asks another to approve. Which fields count depends on the kind;
    the service says what is missing."""

    kind = forms.ChoiceField(label=_("What do you ask for?"), choices=StaffRequest.Kind.choices)
    user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("Staff member"),
        help_text=_("Not for a new account."),
    )
    role = forms.ModelChoiceField(
        queryset=Group.objects.none(),
        required=False,
        label=_("Role"),
        help_text=_("To grant or remove; for a new account, its first role (optional)."),
    )
    lock = forms.ModelChoiceField(
        queryset=EmergencyLock.objects.none(),
        required=False,
        label=_("Lost-device lock to lift"),
    )
    username = forms.CharField(max_length=150, required=False, label=_("New account: user name"))
    first_name = forms.CharField(max_length=150, required=False, label=_("New account: first name"))
    last_name = forms.CharField(max_length=150, required=False, label=_("New account: last name"))
    email = forms.EmailField(required=False, label=_("New account: e-mail address"))
    reason = ReasonField()

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.exclude(pk=actor.pk).order_by("username")
        self.fields["user"].label_from_instance = lambda user: user.get_username()
        self.fields["role"].queryset = Group.objects.filter(name__in=Role.ALL).order_by("name")
        self.fields["role"].label_from_instance = lambda group: role_label(group.name)
        self.fields["lock"].queryset = EmergencyLock.objects.filter(
            kind=EmergencyLock.Kind.LOST_DEVICE, lifted_at__isnull=True
        )


class ApproveForm(ConfirmForm):
    """Approving a request: understood, and a fresh code."""


class RefuseForm(StyledForm):
    refusal_reason = forms.CharField(
        max_length=500,
        label=_("Why do you refuse it?"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SetupPasswordForm(StyledForm):
    new_password1 = forms.CharField(
        label=_("Your new password"),
        help_text=_("At least 12 characters; a few words nobody would guess are best."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        max_length=128,
    )
    new_password2 = forms.CharField(
        label=_("The new password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        max_length=128,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("new_password1") != cleaned.get("new_password2"):
            self.add_error("new_password2", _("The two passwords are not the same."))
        return cleaned
