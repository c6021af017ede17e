"""Figures over the whole caseload kept for a minute and shared by everyone who may see them."""

from __future__ import annotations

import pickle
import time
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
    depends on (its dates).

    The shared cache keeps each figure with the time it was computed, and each worker process
    keeps what it read until that time plus HAVEN_FIGURES_CACHE_SECONDS: a figure is never
    older than that, and a page asks Redis only for the figures it has not read lately (a
    dashboard asked for five on every request)."""
    seconds = settings.HAVEN_FIGURES_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    now = time.time()
    kept = _read_here.get(key)
    if kept is not None and now - kept[0] < seconds:
        # A fresh copy for each caller, as from the shared cache: a caller may change it. The
        # bytes were pickled by this very process (below), never read from outside it.
        return pickle.loads(kept[1])  # noqa: S301  # nosec B301
    computed_at, value = cache.get_or_set(
        f"figures:{FORMAT}:{key}", lambda: (time.time(), compute()), seconds
    )
    if len(_read_here) >= READ_HERE_AT_MOST:
        _forget_old(now, seconds)
    _read_here[key] = (computed_at, pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    return value


# The shared cache's entries are (computed at, figure) pairs, under keys of this format.
FORMAT = "v2"
# What this process read of the shared figures: key → (computed at, the figure pickled).
_read_here: dict[str, tuple[float, bytes]] = {}
# Keys carry dates and generations, so old ones pile up: past this many, those kept too long go.
READ_HERE_AT_MOST = 256


def _forget_old(now: float, seconds: int) -> None:
    for key, (computed_at, _value) in list(_read_here.items()):
        if now - computed_at >= seconds:
            _read_here.pop(key, None)
    if len(_read_here) >= READ_HERE_AT_MOST:  # all still fresh: start again
        _read_here.clear()


def forget_read_figures() -> None:
    """Forget what this process read (the tests start each from nothing)."""
    _read_here.clear()


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
