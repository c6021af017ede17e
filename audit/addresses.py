"""The client's address behind the reverse proxies, as the lockout and the access log see it."""

from __future__ import annotations

import ipaddress

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.http import HttpRequest


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
