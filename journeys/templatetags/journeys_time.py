"""How long until or since a check-in, in words of Haven's own catalogue (Django's `timesince`
has no Burmese), to the minute: "3 hours, 31 minutes", "၃ နာရီ ၃၁ မိနစ်"."""

from __future__ import annotations

import datetime

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


def _days(count: int) -> str:
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def _hours(count: int) -> str:
    return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}


def _minutes(count: int) -> str:
    return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}


def span(delta: datetime.timedelta) -> str:
    """The two largest units of a length of time (at least a minute)."""
    minutes = max(int(abs(delta.total_seconds()) // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        first, second = _days(days), _hours(hours) if hours else ""
    elif hours:
        first, second = _hours(hours), _minutes(minutes) if minutes else ""
    else:
        return _minutes(minutes)
    if not second:
        return first
    return _("%(larger)s, %(smaller)s") % {"larger": first, "smaller": second}


@register.filter
def time_between(moment: datetime.datetime | None, now: datetime.datetime) -> str:
    """`{{ journey.next_due|time_between:now }}`: how long from now to the moment, or since it."""
    if moment is None:
        return ""
    return span(moment - now)
