"""Navigation entries by role, grouped in one menu per app so that the bar fits on one line at
1280 px in English and Burmese. Each app registers its own entries in its AppConfig.ready(), so
accounts needs to know no domain app."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavigationEntry:
    label: str | Promise
    url_name: str
    permission: str | None
    order: int = 100
    # The menu the entry is in (its app: "Cases", "Housing"…); None for an entry of its own.
    group: str | Promise | None = None

    @property
    def url(self) -> str:
        return _reversed(self.url_name, get_script_prefix(), url_configuration())


def url_configuration() -> str:
    """The URL configuration in use (a request's own, or the settings'), for a cache's key."""
    return get_urlconf() or settings.ROOT_URLCONF


@lru_cache(maxsize=256)
def _reversed(url_name: str, _script_prefix: str, _urlconf: str) -> str:
    """A menu entry's address, worked out once per URL configuration: the bar is drawn on every
    page, and asks each entry's address several times (its link, and whether it is the page)."""
    return reverse(url_name)


_entries: list[NavigationEntry] = []


@dataclass(frozen=True)
class NavigationGroup:
    """A menu of the bar; with one entry for the user, shown as that entry's own link."""

    label: str | Promise
    entries: list[NavigationEntry]

    @property
    def urls(self) -> list[str]:
        return [entry.url for entry in self.entries]


def register(
    *,
    label: str | Promise,
    url_name: str,
    permission: str | None,
    order: int = 100,
    group: str | Promise | None = None,
) -> None:
    entry = NavigationEntry(
        label=label, url_name=url_name, permission=permission, order=order, group=group
    )
    if entry not in _entries:
        _entries.append(entry)
        _entries.sort(key=lambda item: item.order)


def entries_for(user) -> list[NavigationEntry]:
    """The menu entries this user may use, in order (asked on every request)."""
    return [
        entry for entry in _entries if entry.permission is None or user.has_perm(entry.permission)
    ]


def entries_named(url_names) -> list[NavigationEntry]:
    """The registered entries of these URL names, in the menu's order."""
    wanted = set(url_names)
    return [entry for entry in _entries if entry.url_name in wanted]


def group_entries(entries) -> list[NavigationGroup]:
    """Entries (in order) gathered into their menus, in order of each menu's first entry."""
    groups: dict[object, NavigationGroup] = {}
    for entry in entries:
        key = str(entry.group) if entry.group is not None else entry.url_name
        if key not in groups:
            groups[key] = NavigationGroup(label=entry.group or entry.label, entries=[])
        groups[key].entries.append(entry)
    return list(groups.values())
