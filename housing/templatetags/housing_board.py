"""The occupancy board's beds, written in Python: a page of houses holds hundreds of beds, and
the template language took most of the page's time drawing them one tag at a time."""

from __future__ import annotations

import datetime

from django import template
from django.utils import formats, timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()

ITEM = "list-group-item d-flex flex-wrap justify-content-between gap-2 px-1"


@register.simple_tag(takes_context=True)
def bed_items(
    context, beds, *, house_status: str, may_see_stays: bool, history_prefix: str
) -> SafeString:
    """A room's beds as list items: who sleeps there (a link to their stays for those who may
    see them) and since when, or why the bed is free or not. Every value is escaped.

    Several hundred beds a page: the fixed pieces (translated words, badges) are built once a
    page and the dates formatted once per day, kept in the page's render context."""
    beds = list(beds)
    if not beds:
        return format_html(
            '<li class="list-group-item px-1 text-body-secondary">{}</li>',
            _("No beds in this room."),
        )
    words = context.render_context.get(_WORDS)
    if words is None:
        words = context.render_context[_WORDS] = _Words(history_prefix)
    taking_people = house_status == "active"
    rows = []
    for bed in beds:
        occupant = bed.occupant
        css = ITEM
        if occupant is not None:
            label = escape(occupant.occupant_label)
            who = (
                f'<a class="font-monospace" href="{words.prefix}{int(occupant.case_id)}/">'
                f"{label}</a>"
                if may_see_stays
                else f'<span class="font-monospace">{label}</span>'
            )
            state = (
                f'<span>{who} <span class="text-body-secondary small">'
                f"{words.since(occupant.since)}</span></span>"
            )
        elif not bed.active:
            state = words.not_in_use
        elif not taking_people:
            state = words.not_taking
        else:
            state = words.free
            css = ITEM + " list-group-item-success"
        rows.append(f'<li class="{css}"><span>{words.bed} {escape(bed.label)}</span>{state}</li>')
    # Every value above is escaped (escape, int, the escaped fixed words).
    return mark_safe("\n".join(rows))  # noqa: S308  # nosec B308 B703


_WORDS = "housing_board_words"


class _Words:
    """The board's fixed words and badges, escaped once a page, and its dates by day."""

    def __init__(self, history_prefix: str) -> None:
        self.prefix = escape(history_prefix)
        self.bed = escape(_("Bed"))
        self.not_in_use = f'<span class="badge text-bg-secondary">{escape(_("not in use"))}</span>'
        self.not_taking = (
            '<span class="badge text-bg-light border">'
            f"{escape(_('empty, house not taking people'))}</span>"
        )
        self.free = f'<span class="badge text-bg-success">{escape(_("free"))}</span>'
        self._since = _("since %(since)s")
        self._dates: dict[datetime.date, str] = {}

    def since(self, moment: datetime.datetime) -> str:
        day = timezone.localtime(moment).date()
        text = self._dates.get(day)
        if text is None:
            since = formats.date_format(day, "DATE_FORMAT")
            text = self._dates[day] = escape(self._since % {"since": since})
        return text
