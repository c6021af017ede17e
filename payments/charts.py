"""Server-rendered SVG charts of the finance dashboard: one chart per currency (amounts in
different currencies are never drawn on one scale), bars with an outline and their amount written
above them, month labels, a title and a description for screen readers; no script, no inline
style, nothing that needs colour to be read. The table beside each chart has every figure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cases.charts import axis_ticks
from payments.selectors import PaidMonth
from payments.templatetags.payments_money import format_amount, format_money

WIDTH = 960
HEIGHT = 320
MARGIN_LEFT = 96
MARGIN_RIGHT = 16
MARGIN_TOP = 24
MARGIN_BOTTOM = 48
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans Myanmar', sans-serif"
BAR_FILL = "#cfe2ff"
BAR_STROKE = "#052c65"
GRID_STROKE = "#d0d0d0"
TEXT_FILL = "#212529"


def _number(value: float) -> str:
    """Coordinates with at most one decimal, so the markup stays small and stable."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _month_label(month) -> str:
    return date_format(month, "M Y")


def paid_description(rows: Sequence[PaidMonth], currency: str) -> str:
    amounts = [row.by_currency.get(currency, Decimal(0)) for row in rows]
    if not rows:
        return _("No months to show.")
    total = sum(amounts, Decimal(0))
    parts = [
        _("Bars show the money paid out in %(currency)s in each month, %(start)s to %(end)s.")
        % {
            "currency": currency,
            "start": _month_label(rows[0].month),
            "end": _month_label(rows[-1].month),
        },
        _("Total: %(total)s.") % {"total": format_money(total, currency)},
    ]
    if total:
        largest = max(range(len(rows)), key=lambda index: amounts[index])
        parts.append(
            _("Largest month: %(month)s, %(amount)s.")
            % {
                "month": _month_label(rows[largest].month),
                "amount": format_money(amounts[largest], currency),
            }
        )
    return " ".join(parts)


def paid_chart_svg(rows: Sequence[PaidMonth], currency: str) -> SafeString:
    """Money paid per month in one currency, as inline SVG markup. Every text is escaped."""
    element_id = f"paid-chart-{''.join(c for c in currency if c.isalnum())}"
    title_id, desc_id = f"{element_id}-title", f"{element_id}-desc"
    title = _("Paid per month in %(currency)s") % {"currency": currency}
    amounts = [row.by_currency.get(currency, Decimal(0)) for row in rows]
    # The axis counts whole units: amounts are rounded up for the gridlines only.
    ticks = axis_ticks(math.ceil(max([*amounts, Decimal(0)])))
    top_value = Decimal(ticks[-1])
    plot_left, plot_right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    plot_top, plot_bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    plot_height = plot_bottom - plot_top

    def y_of(value: Decimal) -> float:
        return plot_bottom - plot_height * float(value / top_value)

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(element_id)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="{escape(FONT)}" '
        f'font-size="12" fill="{TEXT_FILL}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(paid_description(rows, currency))}</desc>',
    ]
    for value in ticks:
        y = _number(y_of(Decimal(value)))
        parts.append(
            f'<line x1="{plot_left}" y1="{y}" x2="{plot_right}" y2="{y}" '
            f'stroke="{GRID_STROKE}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{plot_left - 6}" y="{y}" text-anchor="end" dominant-baseline="middle">'
            f"{value:,}</text>"
        )
    parts.append(
        f'<line x1="{plot_left}" y1="{plot_bottom}" x2="{plot_right}" y2="{plot_bottom}" '
        f'stroke="{TEXT_FILL}" stroke-width="1"/>'
    )
    if rows:
        slot = (plot_right - plot_left) / len(rows)
        bar_width = max(slot * 0.6, 1)
        for position, (row, amount) in enumerate(zip(rows, amounts, strict=True)):
            centre = plot_left + slot * (position + 0.5)
            tooltip = _("%(month)s: %(amount)s") % {
                "month": _month_label(row.month),
                "amount": format_money(amount, currency),
            }
            if amount > 0:
                top = y_of(amount)
                parts.append(
                    f'<rect x="{_number(centre - bar_width / 2)}" y="{_number(top)}" '
                    f'width="{_number(bar_width)}" height="{_number(plot_bottom - top)}" '
                    f'fill="{BAR_FILL}" stroke="{BAR_STROKE}" stroke-width="1.5">'
                    f"<title>{escape(tooltip)}</title></rect>"
                )
                parts.append(
                    f'<text x="{_number(centre)}" y="{_number(top - 4)}" text-anchor="middle" '
                    f'font-size="10">{escape(format_amount(amount, currency))}</text>'
                )
            parts.append(
                f'<text x="{_number(centre)}" y="{plot_bottom + 16}" text-anchor="middle">'
                f"{escape(date_format(row.month, 'M'))}</text>"
            )
            if position == 0 or row.month.month == 1:
                parts.append(
                    f'<text x="{_number(centre)}" y="{plot_bottom + 32}" text-anchor="middle">'
                    f"{row.month.year}</text>"
                )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703  # every text above is escaped
