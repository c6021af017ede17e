"""The main menu, drawn on every page: kept by the worker once drawn for a set of entries, a
language and an active page, since it holds links and their names only. Which entries a user
may use is worked out on every request (accounts.navigation.entries_for, from permissions
read anew with the user), so a permission taken away leaves the menu at the next request."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.safestring import SafeString

from accounts.navigation import (
    entries_for,
    entries_named,
    group_entries,
    url_configuration,
)

register = template.Library()


@register.simple_tag(takes_context=True)
def main_menu(context) -> SafeString:
    request = context["request"]
    user = request.user
    entries = entries_for(user)
    urls = {entry.url for entry in entries}
    return _menu(
        tuple(entry.url_name for entry in entries),
        bool(user.is_staff),
        translation.get_language(),
        request.path if request.path in urls else None,
        get_script_prefix(),
        url_configuration(),
    )


@lru_cache(maxsize=512)
def _menu(
    url_names: tuple[str, ...],
    is_staff: bool,
    language: str,
    active: str | None,
    _script_prefix: str,
    _urlconf: str,
) -> SafeString:
    entries = entries_named(url_names)
    with translation.override(language):
        return render_to_string(
            "partials/main_menu.html",
            {"navigation": group_entries(entries), "is_staff": is_staff, "active": active},
        )
