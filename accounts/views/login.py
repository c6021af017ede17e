"""Login with a second factor (enrolment and verification) and logout."""

from __future__ import annotations

import base64
import math

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms import LoginForm, TokenForm
from accounts.views.language import set_language_cookie
from audit.models import AccessLog
from audit.services import log_access


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form) -> HttpResponse:
        """Logs in and switches Haven to the staff member's own language, whatever the last
        person at this computer chose."""
        response = super().form_valid(form)
        language = self.request.user.preferred_language
        if language in dict(settings.LANGUAGES):
            translation.activate(language)
            set_language_cookie(response, language)
        return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Ends the session on the server (the session row is deleted), not only in the browser."""
    logout(request)
    messages.info(request, _("You have been logged out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def throttled_for(devices) -> int:
    """Seconds to wait when django-otp throttles every device after wrong codes (0: none). A
    code typed meanwhile is not checked and counts for nothing: the throttle would refuse even
    the right one, and counting that as a failure would lock out the person for being right."""
    waits = []
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if allowed:
            return 0
        until = (data or {}).get("locked_until")
        waits.append(until)
    if not waits or any(until is None for until in waits):
        return 0
    return max(1, math.ceil((min(waits) - timezone.now()).total_seconds()))


def _wait_message(seconds: int) -> str:
    return ngettext(
        "Too many wrong codes: wait %(seconds)d second, then type the code your app shows.",
        "Too many wrong codes: wait %(seconds)d seconds, then type the code your app shows.",
        seconds,
    ) % {"seconds": seconds}


def count_failed_second_factor(request: HttpRequest) -> bool:
    """A wrong code counts as a failed login for the lockout. Returns True once locked out."""
    user = request.user
    credentials = {"username": user.get_username()}
    log_access(action=AccessLog.Action.SECOND_FACTOR_FAILED, actor=user, request=request)
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if AxesProxyHandler.is_locked(request, credentials):
        logout(request)
        return True
    return False


@never_cache
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    devices = list(devices_for_user(user, confirmed=True))
    if not devices:
        return redirect("accounts:otp_enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (wait := throttled_for(devices)):
        form.add_error("token", _wait_message(wait))
    elif request.method == "POST" and form.is_valid():
        device = next(
            (device for device in devices if device.verify_token(form.cleaned_data["token"])), None
        )
        if device is not None:
            otp_login(request, device)
            log_access(action=AccessLog.Action.SECOND_FACTOR_VERIFIED, actor=user, request=request)
            return redirect(_next_url(request))
        if count_failed_second_factor(request):
            return render(request, "accounts/locked_out.html", status=403)
        form.add_error(
            "token", _("That code is not valid. Check your device's clock and try again.")
        )
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next_url(request)})


def _qr_svg(text: str) -> str:
    # segno draws with attributes only (no inline style), which the CSP allows.
    svg = segno.make(text, error="m").svg_inline(scale=5, dark="#000", light="#fff", border=2)
    return mark_safe(svg)  # noqa: S308  # nosec B308 B703  # generated by segno from our own device URL


@never_cache
def otp_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        if user.is_verified():
            messages.info(request, _("Your authenticator app is already set up."))
            return redirect("home")
        return redirect("accounts:otp_verify")
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "authenticator"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            log_access(action=AccessLog.Action.SECOND_FACTOR_ENROLLED, actor=user, request=request)
            messages.success(request, _("Your authenticator app is set up."))
            return redirect(_next_url(request))
        if count_failed_second_factor(request):
            return render(request, "accounts/locked_out.html", status=403)
        form.add_error(
            "token", _("That code is not valid. Check your device's clock and try again.")
        )
    secret = base64.b32encode(device.bin_key).decode("ascii")
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret_groups": [secret[index : index + 4] for index in range(0, len(secret), 4)],
        "next": _next_url(request),
    }
    return render(request, "accounts/otp_enrol.html", context)
