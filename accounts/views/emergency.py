"""The Emergency page: lock every other account, end every session, revoke a lost device, and
lift a lock. Each action has its own confirmation page that says what will happen and asks for
the administrator's current authenticator code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts import emergency
from accounts.forms import ConfirmForm, EndSessionsForm, LiftForm, LockForm, RevokeForm
from accounts.models import EmergencyLock, User
from accounts.permissions import permission_required_logged
from accounts.views.login import count_failed_second_factor


@permission_required_logged(emergency.PERMISSION, action="view")
@never_cache
def emergency_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/emergency/home.html",
        {"locks": emergency.locks_in_force(), "recent": emergency.recent_locks()},
    )


def confirmed_action(request: HttpRequest, form: ConfirmForm, act: Callable[[], Any]):
    """Run the action; a wrong code counts towards the lockout like one at login. Returns the
    action's result, or a response to send instead."""
    try:
        return act(), None
    except emergency.ConfirmationFailed as error:
        if error.counts_as_failure and count_failed_second_factor(request):
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
        lock, response = confirmed_action(
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
        ended, response = confirmed_action(
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
            "I understand that this person will be locked out until two administrators lift "
            "the lock and they set a new password."
        ),
        initial={"user": request.GET.get("user")},
    )
    if request.method == "POST" and form.is_valid():
        lock, response = confirmed_action(
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
                    "The device of %(user)s is revoked and their account locked. When you have "
                    "met them, ask for the lock to be lifted: another administrator approves, and "
                    "they set their own new password."
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
    if lock.kind == EmergencyLock.Kind.LOST_DEVICE:
        # Two administrators: one asks, another approves (accounts/staff_requests.py).
        query = urlencode({"kind": "lift_lock", "lock": lock.pk})
        return redirect(f"{reverse('accounts:staff_request_new')}?{query}")
    form = LiftForm(
        request.POST or None,
        lock=lock,
        actor=request.user,
        understood_label=_("I understand that these accounts will be able to log in again."),
    )
    if request.method == "POST" and form.is_valid():
        restored, response = confirmed_action(
            request,
            form,
            lambda: emergency.emergency_lock_lift(
                lock=lock,
                actor=request.user,
                code=form.cleaned_data["code"],
                keep_locked=form.cleaned_data.get("keep_locked") or (),
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
