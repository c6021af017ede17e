"""Server-rendered SVG charts for the case reports: no JavaScript, no inline style, readable
without colour (bars and a line with hollow circles, a text legend, values written on the
bars), with a title and a description for screen readers. The data table beside the chart on
the page is the full fallback."""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Sequence

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cases.selectors import MonthRow

WIDTH = 960
HEIGHT = 380
MARGIN_LEFT = 56
MARGIN_RIGHT = 16
MARGIN_TOP = 48
MARGIN_BOTTOM = 56
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans Myanmar', sans-serif"

# Light bars with a dark outline and a black line with hollow circles: different shapes, so
# the two series stay apart in greyscale, in print and for colour-blind readers.
BAR_FILL = "#9ec5fe"
BAR_STROKE = "#084298"
LINE_STROKE = "#000000"
GRID_STROKE = "#d0d0d0"
TEXT_FILL = "#212529"

# Above this many months the value labels on the bars would overlap; the table has them all.
MAX_LABELLED_BARS = 36


def _number(value: float) -> str:
    """Coordinates with at most one decimal, so the markup stays small and stable."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _nice_step(raw: float) -> int:
    """The smallest whole 1, 2, 2.5 or 5 × 10ⁿ (at least 1) not below `raw`."""
    if raw <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if step >= raw and step == int(step):
            return int(step)
    return int(10 * magnitude)  # pragma: no cover (the loop always returns)


def axis_ticks(largest: int) -> list[int]:
    """Gridline values from 0 to a round maximum at or above `largest`, about five of them."""
    step = _nice_step(max(largest, 1) / 4)
    top = step * max(1, math.ceil(largest / step))
    return list(range(0, top + 1, step))


def _month_label(month) -> str:
    return date_format(month, "M Y")


def _month_figures(row: MonthRow) -> dict:
    return {"month": _month_label(row.month), "contacts": row.contacts, "verified": row.verified}


def chart_description(rows: Sequence[MonthRow]) -> str:
    """A sentence or three that say what the chart shows, for its <desc> and for the page."""
    if not rows:
        return _("No months in the chosen range.")
    total_contacts = sum(row.contacts for row in rows)
    total_verified = sum(row.verified for row in rows)
    parts = [
        _(
            "Bars show contacts per month of first contact; the line with circles shows "
            "verified defections per month of defection."
        ),
        _("Totals for the range: contacts %(contacts)d, verified defections %(verified)d.")
        % {"contacts": total_contacts, "verified": total_verified},
    ]
    if total_contacts:
        peak = max(rows, key=lambda row: row.contacts)
        parts.append(
            _("Busiest month: %(month)s, contacts %(count)d.")
            % {"month": _month_label(peak.month), "count": peak.contacts}
        )
    this_month = timezone.localdate().replace(day=1)
    latest = rows[-1]
    if latest.month == this_month:
        parts.append(
            _("This month so far, %(month)s: contacts %(contacts)d, verified %(verified)d.")
            % _month_figures(latest)
        )
        if len(rows) > 1:
            parts.append(
                _("Last month, %(month)s: contacts %(contacts)d, verified %(verified)d.")
                % _month_figures(rows[-2])
            )
    elif latest.month == (this_month - datetime.timedelta(days=1)).replace(day=1):
        parts.append(
            _("Last month, %(month)s: contacts %(contacts)d, verified %(verified)d.")
            % _month_figures(latest)
        )
    else:
        parts.append(
            _("Last month of the range, %(month)s: contacts %(contacts)d, verified %(verified)d.")
            % _month_figures(latest)
        )
    return " ".join(parts)


def monthly_chart_svg(rows: Sequence[MonthRow], *, element_id: str = "monthly-chart") -> SafeString:
    """Contacts (bars) and verified defections (line) per month, as inline SVG markup."""
    if rows:
        title = _("Contacts and verified defections per month, %(start)s to %(end)s") % {
            "start": _month_label(rows[0].month),
            "end": _month_label(rows[-1].month),
        }
    else:
        title = _("Contacts and verified defections per month")
    return bar_line_chart_svg(
        [(row.month, row.contacts, row.verified) for row in rows],
        title=title,
        description=chart_description(rows),
        bar_legend=_("Contacts (bars)"),
        line_legend=_("Verified defections (line with circles)"),
        bar_tooltip=lambda month, contacts, verified: (
            _("%(month)s: contacts %(contacts)d, verified %(verified)d")
            % {"month": month, "contacts": contacts, "verified": verified}
        ),
        line_tooltip=lambda month, verified: (
            _("%(month)s: verified %(verified)d") % {"month": month, "verified": verified}
        ),
        element_id=element_id,
    )


def bar_line_chart_svg(
    points: Sequence[tuple[datetime.date, int, int]],
    *,
    title: str,
    description: str,
    bar_legend: str,
    line_legend: str,
    element_id: str,
    bar_tooltip: Callable[[str, int, int], str],
    line_tooltip: Callable[[str, int], str],
) -> SafeString:
    """Two monthly series, (month, bar value, line value) each, as inline SVG markup: bars and a
    line with hollow circles, told apart by shape and by a legend in words.

    Every piece of text is escaped here; the result is marked safe for the template.
    """
    element_id = "".join(
        character for character in element_id if character.isalnum() or character in "-_"
    )
    title_id, desc_id = f"{element_id}-title", f"{element_id}-desc"
    plot_left, plot_right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    plot_top, plot_bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    plot_height = plot_bottom - plot_top
    ticks = axis_ticks(max([max(bar, line) for _month, bar, line in points] + [0]))
    top_value = ticks[-1]

    def y_of(value: int) -> float:
        return plot_bottom - plot_height * value / top_value

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(element_id)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="{escape(FONT)}" '
        f'font-size="12" fill="{TEXT_FILL}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
    ]

    # Gridlines and the value axis.
    for value in ticks:
        y = _number(y_of(value))
        parts.append(
            f'<line x1="{plot_left}" y1="{y}" x2="{plot_right}" y2="{y}" '
            f'stroke="{GRID_STROKE}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{plot_left - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{value}</text>'
        )
    parts.append(
        f'<line x1="{plot_left}" y1="{plot_bottom}" x2="{plot_right}" y2="{plot_bottom}" '
        f'stroke="{TEXT_FILL}" stroke-width="1"/>'
    )

    # Legend, in words as well as shapes.
    legend_y = 18
    parts.append(
        f'<rect x="{plot_left}" y="{legend_y - 8}" width="16" height="12" fill="{BAR_FILL}" '
        f'stroke="{BAR_STROKE}" stroke-width="1"/>'
    )
    bars_label = bar_legend
    parts.append(
        f'<text x="{plot_left + 22}" y="{legend_y}" dominant-baseline="middle">'
        f"{escape(bars_label)}</text>"
    )
    # Room for the first label at about 7.5 units a character (labels are translated).
    line_x = plot_left + 22 + math.ceil(len(bars_label) * 7.5) + 32
    parts.append(
        f'<line x1="{line_x}" y1="{legend_y - 2}" x2="{line_x + 24}" y2="{legend_y - 2}" '
        f'stroke="{LINE_STROKE}" stroke-width="2"/>'
    )
    parts.append(
        f'<circle cx="{line_x + 12}" cy="{legend_y - 2}" r="4" fill="#ffffff" '
        f'stroke="{LINE_STROKE}" stroke-width="2"/>'
    )
    parts.append(
        f'<text x="{line_x + 32}" y="{legend_y}" dominant-baseline="middle">'
        f"{escape(line_legend)}</text>"
    )

    if not points:
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703  # every text above is escaped

    slot = (plot_right - plot_left) / len(points)
    bar_width = max(slot * 0.7, 1)
    label_every = max(1, math.ceil(len(points) / 12))
    label_bars = len(points) <= MAX_LABELLED_BARS
    marker_radius = 3.5 if len(points) <= 60 else 2

    coordinates: list[tuple[float, float]] = []
    labelled_year = None
    for position, (month, bar, line) in enumerate(points):
        centre = plot_left + slot * (position + 0.5)
        tooltip = bar_tooltip(_month_label(month), bar, line)
        if bar:
            top = y_of(bar)
            parts.append(
                f'<rect x="{_number(centre - bar_width / 2)}" y="{_number(top)}" '
                f'width="{_number(bar_width)}" height="{_number(plot_bottom - top)}" '
                f'fill="{BAR_FILL}" stroke="{BAR_STROKE}" stroke-width="1">'
                f"<title>{escape(tooltip)}</title></rect>"
            )
            if label_bars:
                parts.append(
                    f'<text x="{_number(centre)}" y="{_number(top - 4)}" text-anchor="middle" '
                    f'font-size="10">{bar}</text>'
                )
        coordinates.append((centre, y_of(line)))
        if position % label_every == 0:
            parts.append(
                f'<text x="{_number(centre)}" y="{plot_bottom + 16}" text-anchor="middle">'
                f"{escape(date_format(month, 'M'))}</text>"
            )
            if month.year != labelled_year:
                labelled_year = month.year
                parts.append(
                    f'<text x="{_number(centre)}" y="{plot_bottom + 32}" text-anchor="middle">'
                    f"{month.year}</text>"
                )

    parts.append(
        '<polyline points="'
        + " ".join(f"{_number(x)},{_number(y)}" for x, y in coordinates)
        + f'" fill="none" stroke="{LINE_STROKE}" stroke-width="2"/>'
    )
    for (x, y), (month, _bar, line) in zip(coordinates, points, strict=True):
        tooltip = line_tooltip(_month_label(month), line)
        parts.append(
            f'<circle cx="{_number(x)}" cy="{_number(y)}" r="{marker_radius}" fill="#ffffff" '
            f'stroke="{LINE_STROKE}" stroke-width="2"><title>{escape(tooltip)}</title></circle>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703  # every text above is escaped
