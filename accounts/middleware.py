"""The idle session's sliding expiry, and the second-factor gate: nothing but enrolment and
verification before the second factor."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

# Views a signed-in user may reach before the second factor is verified.
SECOND_FACTOR_EXEMPT_URL_NAMES = frozenset(
    {
        "accounts:otp_verify",
        "accounts:otp_enrol",
        "accounts:logout",
        "accounts:login",
        "accounts:setup_password",
        "healthz",
        "favicon",
        "set_language",
    }
)


# Where the session keeps the time (seconds since the epoch) its expiry was last pushed back.
SESSION_ACTIVITY_KEY = "_haven_activity"


class IdleSessionMiddleware(SessionMiddleware):
    """Django's session middleware, with the idle timeout's sliding expiry written at most once
    every HAVEN_SESSION_TOUCH_SECONDS instead of on every request.

    Each write sets the session's end to the time of the write plus the idle timeout
    (SESSION_COOKIE_AGE). A request less than HAVEN_SESSION_TOUCH_SECONDS after the last write
    changes nothing, so a session ends between the idle timeout less that interval and the idle
    timeout after its last request: sooner, never later. Logging out, flushing or changing the
    session is written at once as before."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        # A cookie of a session that has ended loads as empty: nothing to keep alive.
        if session is not None and not session.is_empty():
            last = session.get(SESSION_ACTIVITY_KEY)
            now = int(time.time())
            recent = isinstance(last, int) and 0 <= now - last < self.touch_seconds()
            if session.modified or not recent:
                session[SESSION_ACTIVITY_KEY] = now
        return super().process_response(request, response)

    @staticmethod
    def touch_seconds() -> int:
        return settings.HAVEN_SESSION_TOUCH_SECONDS


def second_factor_required() -> bool:
    return settings.HAVEN_REQUIRE_2FA


class SecondFactorRequiredMiddleware:
    """With 2FA required, a signed-in user reaches nothing but the enrolment or verification
    pages until the second factor is verified for this session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            second_factor_required()
            and user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not self._is_exempt(request)
        ):
            from django_otp import user_has_device

            if user_has_device(user, confirmed=True):
                return redirect("accounts:otp_verify")
            return redirect("accounts:otp_enrol")
        return self.get_response(request)

    @staticmethod
    def _is_exempt(request: HttpRequest) -> bool:
        if request.path.startswith(
            settings.STATIC_URL
            if settings.STATIC_URL.startswith("/")
            else "/" + settings.STATIC_URL
        ):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in SECOND_FACTOR_EXEMPT_URL_NAMES


@cache
def _device_sql(model: type[Device]) -> str:
    quote = connection.ops.quote_name
    return f"SELECT * FROM {quote(model._meta.db_table)} WHERE {quote('id')} = %s"


class DeviceMiddleware(OTPMiddleware):
    """django-otp's middleware, reading the session's second-factor device in SQL written once
    per device model: built by the ORM, that read was the dearest of every page's floor (about
    a millisecond of CPU). What it checks is django-otp's own: the device must be the signed-in
    user's and confirmed, or the session's device is forgotten and the user is not verified."""

    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        persistent_id = self._normalize_persistent_id(persistent_id)
        try:
            model_label, device_id = persistent_id.rsplit("/", 1)
            app_label, model_name = model_label.split(".")
            model = apps.get_model(app_label, model_name)
            device_id = int(device_id)
        except (ValueError, LookupError):
            return None
        if not issubclass(model, Device):
            return None
        return next(iter(model._default_manager.raw(_device_sql(model), [device_id])), None)
