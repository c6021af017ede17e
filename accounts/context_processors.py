"""Template context shared by every page: the demo flag and whether the user is the last active
administrator (the menu is drawn by accounts/templatetags/navigation.py)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from accounts.roles import Role, role_names
from accounts.staff_requests import active_administrators


def haven(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "HAVEN_DEMO": getattr(settings, "HAVEN_DEMO", False),
        "HAVEN_REQUIRE_2FA": settings.HAVEN_REQUIRE_2FA,
        "lone_administrator": _lone_administrator(user),
    }


def _lone_administrator(user) -> bool:
    """An administrator who is the only active one: nobody can approve their requests, and
    another administrator can only be added on the server's command line."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if Role.ADMINISTRATOR not in role_names(user):
        return False
    return active_administrators().count() == 1
