"""The second-factor gate: nothing but enrolment and verification before the second factor."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

# Views a signed-in user may reach before the second factor is verified.
SECOND_FACTOR_EXEMPT_URL_NAMES = frozenset(
    {
        "accounts:otp_verify",
        "accounts:otp_enrol",
        "accounts:logout",
        "accounts:login",
        "accounts:setup_password",
        "healthz",
        "set_language",
    }
)


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
