"""One way to write to the access log, and one way to name the actor in the change history."""

from __future__ import annotations

import ipaddress
from contextlib import AbstractContextManager
from typing import Any

import pghistory
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.db import models
from django.http import HttpRequest

from accounts.models import AccessLog, User


def _valid_address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def address_behind_proxies(request: HttpRequest) -> str | None:
    """The client's address, for django-axes (AXES_CLIENT_IP_CALLABLE) and the access log.

    Each of our HAVEN_PROXY_COUNT reverse proxies appends the address it was connected from to
    X-Forwarded-For, so the client is that many entries from the right; whatever stands further
    left was written by the client and is not believed. With no proxy (count 0), or a header
    shorter than the count (a request that bypassed the proxies), it is the connection's own
    address."""
    proxies = settings.HAVEN_PROXY_COUNT
    forwarded = [
        entry for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()
    ]
    if proxies > 0 and len(forwarded) >= proxies:
        return _valid_address(forwarded[-proxies])
    return _valid_address(request.META.get("REMOTE_ADDR", ""))


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address as django-axes sees it (behind the proxy: X-Forwarded-For, trusting
    HAVEN_PROXY_COUNT proxies), so the access log and the lockout agree."""
    if request is None:
        return None
    return get_client_ip_address(request) or None


def log_access(
    *,
    action: str,
    actor: User | None = None,
    username: str = "",
    request: HttpRequest | None = None,
    target: models.Model | None = None,
    target_label: str = "",
    field: str = "",
    detail: dict[str, Any] | None = None,
) -> AccessLog:
    """Append an entry to the access log. Never pass a protected value in `detail`."""
    if actor is not None and not username:
        username = actor.get_username()
    return AccessLog.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        username=username[:150],
        ip_address=client_address(request),
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=target_label or (str(target) if target is not None else ""),
        field=field,
        detail=detail or {},
    )


def audit_context(*, actor: User | None, **extra: Any) -> AbstractContextManager:
    """Name who made the changes inside the block in the history (for tasks and commands;
    requests get it from pghistory's middleware)."""
    return pghistory.context(user=actor.pk if actor is not None else None, **extra)
