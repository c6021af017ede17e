"""Links from a case's page to pages of apps built on cases (housing, payments). Those apps
register their links here in their AppConfig.ready(), so cases never imports them."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class CaseLink:
    label: str | Promise
    url_name: str
    permission: str
    order: int = 100


_links: list[CaseLink] = []


def register(*, label: str | Promise, url_name: str, permission: str, order: int = 100) -> None:
    link = CaseLink(label=label, url_name=url_name, permission=permission, order=order)
    if link not in _links:
        _links.append(link)
        _links.sort(key=lambda item: item.order)


def links_for(user, case) -> list[dict]:
    """The registered links this user may follow, for this case. Each linked URL takes the
    case's pk as its only argument (never anything identifying)."""
    return [
        {"label": link.label, "url": reverse(link.url_name, args=[case.pk])}
        for link in _links
        if user.has_perm(link.permission)
    ]
