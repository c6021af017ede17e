"""Figures over the whole caseload kept for a minute and shared by everyone who may see them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache


def shared_figure(key: str, compute: Callable[[], Any]) -> Any:
    """A figure over the whole caseload, the same for everyone who may see it, kept for
    HAVEN_FIGURES_CACHE_SECONDS: ranking 65,000 people waiting for a bed or counting two years
    of stays costs PostgreSQL a tenth of a second or more, and fifty people opening the
    dashboard would ask for it every second. Only numbers, dates and primary keys go in (never a
    name, a code or an address, never what one member of staff may see and another may not);
    what they point to is read anew by the caller. `key` must name everything the figure
    depends on (its dates)."""
    seconds = settings.HAVEN_FIGURES_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    return cache.get_or_set(f"figures:{key}", compute, seconds)
