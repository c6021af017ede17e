"""Template context shared by every page: the demo flag and the navigation for the user's role."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from accounts.navigation import navigation_for


def haven(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "HAVEN_DEMO": getattr(settings, "HAVEN_DEMO", False),
        "HAVEN_REQUIRE_2FA": settings.HAVEN_REQUIRE_2FA,
        "navigation": navigation_for(user) if user is not None and user.is_authenticated else [],
    }
