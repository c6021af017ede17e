"""Figures over the whole caseload kept for a minute and shared by everyone who may see them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction


def shared_figure(key: str, compute: Callable[[], Any]) -> Any:
    """A figure over the whole caseload, the same for everyone who may see it, kept for
    HAVEN_FIGURES_CACHE_SECONDS: ranking 65,000 people waiting for a bed or counting two years
    of stays costs PostgreSQL a tenth of a second or more, and fifty people opening the
    dashboard would ask for it every second. Only numbers, dates and primary keys go in, or what
    is drawn from them alone (the dashboard's chart, in a language named in the key): never a
    name, a code or an address, never what one member of staff may see and another may not;
    what they point to is read anew by the caller. `key` must name everything the figure
    depends on (its dates)."""
    seconds = settings.HAVEN_FIGURES_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    return cache.get_or_set(f"figures:{key}", compute, seconds)


# Counts that must follow their rows (the case list's "N cases") carry the generation of their
# table in their key: a change to the table starts a new generation, so a count is shared only
# until the next change, and for HAVEN_FIGURES_CACHE_SECONDS at most. The apps bump it from
# their models' post_save and post_delete signals; a write that sends none (QuerySet.update,
# bulk_create) is seen within HAVEN_FIGURES_CACHE_SECONDS only.
GENERATION_KEY = "figures-generation:{table}"


def figures_generation(table: str) -> int:
    """The current generation of `table` (see bump_generation), for a shared figure's key."""
    return cache.get_or_set(GENERATION_KEY.format(table=table), 0, None)


def bump_generation(table: str) -> None:
    """`table` changed: once the change commits, figures counted before it are not used again
    (bumped after the commit, so a count read before it cannot take the new generation)."""
    key = GENERATION_KEY.format(table=table)

    def bump() -> None:
        try:
            cache.incr(key)
        except ValueError:  # not there (evicted, or never read): any new value will do
            cache.set(key, 1, None)

    transaction.on_commit(bump)
