"""The occupancy board's rooms and beds, written in Python: a page of houses holds hundreds of
beds, and the template language took most of the page's time drawing them one tag at a time.
Values are escaped by the standard library's html.escape (the characters Django's escape
replaces, without its handling of lazy strings, which none of these is)."""

from __future__ import annotations

import datetime
from html import escape

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()

ITEM = "list-group-item d-flex flex-wrap justify-content-between gap-2 px-1"


@register.simple_tag(takes_context=True)
def house_rooms(
    context, rooms, *, house_status: str, may_see_stays: bool, history_prefix: str
) -> SafeString:
    """A house's rooms, each a heading and its beds as list items: who sleeps there (a link to
    their stays for those who may see them) and since when, or why the bed is free or not.
    Every value is escaped.

    Several hundred beds a page: the fixed pieces (translated words, badges) are built once a
    page and the dates formatted once per day, kept in the page's render context."""
    words = context.render_context.get(_WORDS)
    if words is None:
        words = context.render_context[_WORDS] = _Words(history_prefix)
    parts = [
        f'<h3 class="h6 mt-2">{escape(room.name)}</h3>\n'
        '<ul class="list-group list-group-flush mb-2">\n'
        f"{_bed_items(room.beds, words, house_status, may_see_stays)}\n</ul>"
        for room in rooms
    ]
    if not parts:
        return format_html('<p class="text-body-secondary mb-0">{}</p>', _("No rooms yet."))
    # Every value is escaped (escape, int, the escaped fixed words).
    return mark_safe("\n".join(parts))  # noqa: S308  # nosec B308 B703


def _bed_items(beds, words: _Words, house_status: str, may_see_stays: bool) -> str:
    if not beds:
        return words.no_beds
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
    return "\n".join(rows)


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
        self.no_beds = (
            f'<li class="list-group-item px-1 text-body-secondary">'
            f"{escape(_('No beds in this room.'))}</li>"
        )
        self._since = _("since %(since)s")
        self._dates: dict[datetime.date, str] = {}

    def since(self, moment: datetime.datetime) -> str:
        day = timezone.localtime(moment).date()
        text = self._dates.get(day)
        if text is None:
            since = formats.date_format(day, "DATE_FORMAT")
            text = self._dates[day] = escape(self._since % {"since": since})
        return text
