"""The occupancy board's beds, written in Python: a page of houses holds hundreds of beds, and
the template language took most of the page's time drawing them one tag at a time."""

from __future__ import annotations

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()

ITEM = "list-group-item d-flex flex-wrap justify-content-between gap-2 px-1"


@register.simple_tag
def bed_items(beds, *, house_status: str, may_see_stays: bool, history_prefix: str) -> SafeString:
    """A room's beds as list items: who sleeps there (a link to their stays for those who may
    see them) and since when, or why the bed is free or not. Every value is escaped."""
    beds = list(beds)
    if not beds:
        return format_html(
            '<li class="list-group-item px-1 text-body-secondary">{}</li>',
            _("No beds in this room."),
        )
    bed_word = _("Bed")
    taking_people = house_status == "active"
    rows = []
    for bed in beds:
        occupant = bed.occupant
        free = occupant is None and bed.active and taking_people
        if occupant is not None:
            label = occupant.occupant_label
            since = formats.date_format(timezone.localtime(occupant.stay.lower), "DATE_FORMAT")
            who = (
                format_html(
                    '<a class="font-monospace" href="{}{}/">{}</a>',
                    history_prefix,
                    occupant.case_id,
                    label,
                )
                if may_see_stays
                else format_html('<span class="font-monospace">{}</span>', label)
            )
            state = format_html(
                '<span>{} <span class="text-body-secondary small">{}</span></span>',
                who,
                _("since %(since)s") % {"since": since},
            )
        elif not bed.active:
            state = format_html('<span class="badge text-bg-secondary">{}</span>', _("not in use"))
        elif not taking_people:
            state = format_html(
                '<span class="badge text-bg-light border">{}</span>',
                _("empty, house not taking people"),
            )
        else:
            state = format_html('<span class="badge text-bg-success">{}</span>', _("free"))
        rows.append(
            (ITEM + (" list-group-item-success" if free else ""), bed_word, bed.label, state)
        )
    return format_html_join("\n", '<li class="{}"><span>{} {}</span>{}</li>', rows)
