"""A case's status and risk as badges, and the case list's rows: tags in Python, not included
templates, because the case list draws 25 rows of nine cells and two badges each."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()

STATUS_STYLES = {
    "intake": "text-bg-secondary",
    "verifying": "text-bg-info",
    "verified": "text-bg-success",
    "rejected": "text-bg-danger",
}
RISK_STYLES = {"critical": "text-bg-danger", "high": "text-bg-warning"}


@register.simple_tag
def status_badge(status: str, label: str) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>', STATUS_STYLES.get(status, "text-bg-dark"), label
    )


@register.simple_tag
def risk_badge(risk: str, label: str) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>', RISK_STYLES.get(risk, "text-bg-light border"), label
    )


@register.simple_tag
def case_rows(cases) -> SafeString:
    """The case list's rows, written in Python: the list is the page staff open most, and the
    template language spent most of its time drawing 25 rows of nine cells one tag at a time.
    The same HTML as the template it replaces; every value escaped (format_html)."""
    detail_prefix = reverse("cases:detail", kwargs={"pk": 0}).removesuffix("0/")
    emergency = format_html(' <span class="badge text-bg-danger">{}</span>', _("Emergency"))
    weapons = {True: _("yes"), False: _("no")}
    months: dict = {}
    rows = []
    for case in cases:
        month = case.contact_month
        if month not in months:
            months[month] = date_format(month, "YEAR_MONTH_FORMAT") if month else ""
        rows.append(
            format_html(
                "<tr>\n"
                '      <td class="text-nowrap"><a href="{}{}/">{}</a>{}</td>\n'
                "      <td>{}</td>\n"
                '      <td class="text-nowrap d-none d-md-table-cell">{}</td>\n'
                '      <td class="d-none d-md-table-cell">{}</td>\n'
                '      <td class="d-none d-md-table-cell">{}</td>\n'
                '      <td class="d-none d-md-table-cell">{}</td>\n'
                '      <td class="d-none d-md-table-cell">{}</td>\n'
                "      <td>{}</td>\n"
                '      <td class="d-none d-md-table-cell">{}</td>\n'
                "    </tr>",
                detail_prefix,
                case.pk,
                case.code,
                emergency if case.emergency else "",
                status_badge(case.status, case.get_status_display()),
                months[month],
                case.get_force_display(),
                case.get_rank_group_display(),
                case.get_region_display(),
                case.get_journey_stage_display(),
                risk_badge(case.risk_level, case.get_risk_level_display()),
                weapons[bool(case.has_weapons)],
            )
        )
    return format_html_join("\n", "{}", ((row,) for row in rows))
