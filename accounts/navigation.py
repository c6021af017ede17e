"""Navigation entries by role. Each app registers its own entries in its AppConfig.ready(), so
accounts needs to know no domain app."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavigationEntry:
    label: str | Promise
    url_name: str
    permission: str | None
    order: int = 100

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_entries: list[NavigationEntry] = []


def register(
    *, label: str | Promise, url_name: str, permission: str | None, order: int = 100
) -> None:
    entry = NavigationEntry(label=label, url_name=url_name, permission=permission, order=order)
    if entry not in _entries:
        _entries.append(entry)
        _entries.sort(key=lambda item: item.order)


def navigation_for(user) -> list[NavigationEntry]:
    return [
        entry for entry in _entries if entry.permission is None or user.has_perm(entry.permission)
    ]
