"""The Emergency page: lock every other account, end every session, revoke a lost device, and
lift a lock. Each action has its own confirmation page that says what will happen and asks for
the administrator's current authenticator code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts import emergency
from accounts.forms import StyledForm
from accounts.models import EmergencyLock, User
from accounts.permissions import permission_required_logged
from accounts.views import _count_failed_second_factor

# --- forms ------------------------------------------------------------------------------------


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
            label=gettext_lazy("Why? (a few words, for the record)"),
            help_text=gettext_lazy("Never write the name of a person Haven helps."),
            widget=forms.Textarea(attrs={"rows": 2}),
            **kwargs,
        )


class LockForm(ConfirmForm):
    reason = ReasonField()


class EndSessionsForm(ConfirmForm):
    keep_own = forms.BooleanField(
        required=False,
        initial=True,
        label=gettext_lazy("Keep me logged in on this computer"),
    )


class RevokeForm(ConfirmForm):
    user = forms.ModelChoiceField(
        queryset=User.objects.none(), label=gettext_lazy("Whose device was lost?")
    )
    reason = ReasonField()

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["user"].queryset = emergency.revocable_users(actor)
        self.fields["user"].label_from_instance = lambda user: user.get_username()


class LiftForm(ConfirmForm):
    keep_locked = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Keep these accounts locked (for example a stolen account)"),
    )
    new_password1 = forms.CharField(
        label=gettext_lazy("New password for the staff member"),
        help_text=gettext_lazy(
            "Give it to them in person. Their old password may be in the thief's hands."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("The new password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def __init__(self, *args: Any, lock: EmergencyLock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if lock.kind == EmergencyLock.Kind.LOST_DEVICE:
            del self.fields["keep_locked"]
        else:
            del self.fields["new_password1"], self.fields["new_password2"]
            keep_locked = self.fields["keep_locked"]
            keep_locked.queryset = lock.users.order_by("username")
            keep_locked.label_from_instance = lambda user: user.get_username()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "new_password1" in self.fields and cleaned.get("new_password1") != cleaned.get(
            "new_password2"
        ):
            self.add_error("new_password2", _("The two passwords are not the same."))
        return cleaned


# --- views ------------------------------------------------------------------------------------


@permission_required_logged(emergency.PERMISSION, action="view")
@never_cache
def emergency_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/emergency/home.html",
        {"locks": emergency.locks_in_force(), "recent": emergency.recent_locks()},
    )


def _confirmed_action(request: HttpRequest, form: ConfirmForm, act: Callable[[], Any]):
    """Run the action; a wrong code counts towards the lockout like one at login. Returns the
    action's result, or a response to send instead."""
    try:
        return act(), None
    except emergency.ConfirmationFailed as error:
        if error.counts_as_failure and _count_failed_second_factor(request):
            return None, render(request, "accounts/locked_out.html", status=403)
        form.add_error("code", str(error))
    except emergency.EmergencyError as error:
        form.add_error(None, str(error))
    return None, None


@permission_required_logged(emergency.PERMISSION, action="lock")
@never_cache
def emergency_lock(request: HttpRequest) -> HttpResponse:
    form = LockForm(
        request.POST or None,
        actor=request.user,
        understood_label=_("I understand that everyone else will be logged out and locked out."),
    )
    if request.method == "POST" and form.is_valid():
        lock, response = _confirmed_action(
            request,
            form,
            lambda: emergency.emergency_lock_all(
                actor=request.user,
                reason=form.cleaned_data["reason"],
                code=form.cleaned_data["code"],
                request=request,
            ),
        )
        if response is not None:
            return response
        if lock is not None:
            messages.success(
                request,
                _("Locked %(count)s accounts. Only you can log in now.")
                % {"count": lock.entries.count()},
            )
            return redirect("accounts:emergency")
    return render(
        request,
        "accounts/emergency/lock.html",
        {"form": form, "others": User.objects.filter(is_active=True).exclude(pk=request.user.pk)},
    )


@permission_required_logged(emergency.PERMISSION, action="end_sessions")
@never_cache
def emergency_end_sessions(request: HttpRequest) -> HttpResponse:
    form = EndSessionsForm(
        request.POST or None,
        actor=request.user,
        understood_label=_("I understand that everyone will have to log in again."),
    )
    if request.method == "POST" and form.is_valid():
        keep_own = form.cleaned_data["keep_own"]
        ended, response = _confirmed_action(
            request,
            form,
            lambda: emergency.sessions_end_all(
                actor=request.user,
                code=form.cleaned_data["code"],
                keep_session_key=request.session.session_key if keep_own else None,
                request=request,
            ),
        )
        if response is not None:
            return response
        if ended is not None:
            if not keep_own:
                logout(request)
                messages.success(request, _("Every session has ended, yours too."))
                return redirect("accounts:login")
            messages.success(request, _("Ended %(count)s sessions.") % {"count": ended})
            return redirect("accounts:emergency")
    return render(request, "accounts/emergency/end_sessions.html", {"form": form})


@permission_required_logged(emergency.PERMISSION, action="revoke_second_factor")
@never_cache
def emergency_revoke(request: HttpRequest) -> HttpResponse:
    form = RevokeForm(
        request.POST or None,
        actor=request.user,
        understood_label=_(
            "I understand that this person will be locked out until an administrator gives "
            "them a new password."
        ),
        initial={"user": request.GET.get("user")},
    )
    if request.method == "POST" and form.is_valid():
        lock, response = _confirmed_action(
            request,
            form,
            lambda: emergency.second_factor_revoke(
                user=form.cleaned_data["user"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
                code=form.cleaned_data["code"],
                request=request,
            ),
        )
        if response is not None:
            return response
        if lock is not None:
            messages.success(
                request,
                _(
                    "The device of %(user)s is revoked and their account locked. Lift the lock "
                    "below, with a new password, when you have met them."
                )
                % {"user": form.cleaned_data["user"].get_username()},
            )
            return redirect("accounts:emergency")
    return render(request, "accounts/emergency/revoke.html", {"form": form})


@permission_required_logged(emergency.PERMISSION, action="unlock")
@never_cache
def emergency_lift(request: HttpRequest, pk: int) -> HttpResponse:
    lock = get_object_or_404(EmergencyLock, pk=pk)
    if not lock.is_in_force:
        messages.info(request, _("This lock has already been lifted."))
        return redirect("accounts:emergency")
    form = LiftForm(
        request.POST or None,
        lock=lock,
        actor=request.user,
        understood_label=_("I understand that these accounts will be able to log in again."),
    )
    if request.method == "POST" and form.is_valid():
        restored, response = _confirmed_action(
            request,
            form,
            lambda: emergency.emergency_lock_lift(
                lock=lock,
                actor=request.user,
                code=form.cleaned_data["code"],
                keep_locked=form.cleaned_data.get("keep_locked") or (),
                new_password=form.cleaned_data.get("new_password1") or "",
                request=request,
            ),
        )
        if response is not None:
            return response
        if restored is not None:
            messages.success(
                request, _("Lock lifted: %(count)s accounts unlocked.") % {"count": restored}
            )
            return redirect("accounts:emergency")
    return render(
        request,
        "accounts/emergency/lift.html",
        {"form": form, "lock": lock, "entries": lock.entries.select_related("user")},
    )
