"""Bed-nights per month as a table and as server-rendered SVG bar charts: no JavaScript, no
inline style, readable without colour (outlined bars with their value written above them, a
labelled axis), with a title and a description for screen readers. The table on the page is
the full fallback."""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from housing.selectors import BedNights

BAR_FILL = "#cfe2ff"
BAR_STROKE = "#052c65"
GRID_STROKE = "#d0d0d0"
TEXT_FILL = "#212529"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans Myanmar', sans-serif"


def months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The first day of every month from `first`'s month to `last`'s month."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


@dataclass
class HouseRow:
    house_code: str
    nights: list[int]

    @property
    def total(self) -> int:
        return sum(self.nights)


@dataclass
class BedNightTable:
    months: list[datetime.date]
    houses: list[HouseRow] = field(default_factory=list)

    @property
    def month_totals(self) -> list[int]:
        return [sum(row.nights[index] for row in self.houses) for index in range(len(self.months))]

    @property
    def total(self) -> int:
        return sum(row.total for row in self.houses)


def bed_night_table(
    rows: Sequence[BedNights], *, first: datetime.date, last: datetime.date
) -> BedNightTable:
    """Houses × months, every month of the range present (zero when nobody slept there)."""
    months = months_between(first, last)
    index = {month: position for position, month in enumerate(months)}
    by_house: dict[str, list[int]] = {}
    for row in rows:
        nights = by_house.setdefault(row.house_code, [0] * len(months))
        if row.month in index:
            nights[index[row.month]] += row.nights
    return BedNightTable(
        months=months,
        houses=[HouseRow(code, nights) for code, nights in sorted(by_house.items())],
    )


def _tick_step(largest: int) -> int:
    """A round step (1, 2 or 5 × 10ⁿ) giving about four gridlines up to `largest`."""
    raw = max(largest, 1) / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return max(1, int(multiple * magnitude))
    return int(10 * magnitude)  # pragma: no cover


def _number(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def bar_chart_svg(
    *,
    chart_id: str,
    title: str,
    description: str,
    months: Sequence[datetime.date],
    values: Sequence[int],
    width: int = 720,
    height: int = 300,
) -> SafeString:
    """One series of monthly bars, each labelled with its value."""
    left, right, top, bottom = 48, 12, 16, 48
    plot_width, plot_height = width - left - right, height - top - bottom
    step = _tick_step(max(values, default=0))
    top_value = step * max(1, math.ceil(max(values, default=0) / step))
    slot = plot_width / max(len(months), 1)
    bar_width = max(slot * 0.7, 1)
    # Month labels every n-th bar so that they never overlap.
    label_every = max(1, math.ceil(len(months) * 44 / plot_width))

    def y_of(value: float) -> float:
        return top + plot_height - plot_height * value / top_value

    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1"/>'
        '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="{}">{}</text>',
        (
            (
                left,
                width - right,
                _number(y_of(tick)),
                _number(y_of(tick)),
                GRID_STROKE,
                left - 6,
                _number(y_of(tick) + 4),
                TEXT_FILL,
                tick,
            )
            for tick in range(0, top_value + 1, step)
        ),
    )
    bars = []
    for position, (month, value) in enumerate(zip(months, values, strict=True)):
        x = left + slot * position + (slot - bar_width) / 2
        y = y_of(value)
        bars.append(
            format_html(
                '<g><title>{}</title><rect x="{}" y="{}" width="{}" height="{}" fill="{}" '
                'stroke="{}" stroke-width="1.5"/>{}{}</g>',
                _("%(month)s: %(nights)d bed-nights")
                % {"month": date_format(month, "M Y"), "nights": value},
                _number(x),
                _number(y),
                _number(bar_width),
                _number(top + plot_height - y),
                BAR_FILL,
                BAR_STROKE,
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{}">{}</text>',
                    _number(x + bar_width / 2),
                    _number(y - 4),
                    TEXT_FILL,
                    value,
                )
                if len(months) <= 24
                else "",
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{}">{}</text>',
                    _number(x + bar_width / 2),
                    height - bottom + 16,
                    TEXT_FILL,
                    date_format(month, "M y"),
                )
                if position % label_every == 0
                else "",
            )
        )
    svg = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'class="img-fluid w-100" role="img" aria-labelledby="{id}-title {id}-desc" '
        'font-family="{font}"><title id="{id}-title">{title}</title>'
        '<desc id="{id}-desc">{description}</desc>{grid}'
        '<line x1="{left}" x2="{right_edge}" y1="{base}" y2="{base}" stroke="{text}" '
        'stroke-width="1"/>{bars}'
        '<text x="{left}" y="{axis_y}" font-size="11" fill="{text}">{axis}</text></svg>',
        width=width,
        height=height,
        id=chart_id,
        font=FONT,
        title=title,
        description=description,
        grid=grid,
        left=left,
        right_edge=width - right,
        base=top + plot_height,
        text=TEXT_FILL,
        bars=mark_safe("".join(bars)),  # noqa: S308  # nosec B308 B703  # each part built with format_html
        axis_y=height - 8,
        axis=_("Bed-nights per month"),
    )
    return svg
