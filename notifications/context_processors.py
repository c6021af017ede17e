"""The unread alerts count shown in the navigation of every page."""

from __future__ import annotations

from django.http import HttpRequest

from notifications.selectors import unread_count


def alerts(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_alerts": unread_count(user)}
