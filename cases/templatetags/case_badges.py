"""A case's status and risk as badges, and the case list's rows: tags in Python, not included
templates, because the case list draws 25 rows of nine cells and two badges each."""

from __future__ import annotations

from html import escape

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()

STATUS_STYLES = {
    "intake": "text-bg-secondary",
    "verifying": "text-bg-info",
    "verified": "text-bg-success",
    "rejected": "text-bg-danger",
}
RISK_STYLES = {"critical": "text-bg-danger", "high": "text-bg-warning"}


def _badge(style: str, escaped_label: str) -> str:
    """A badge of one of the fixed styles above around an already escaped label."""
    return f'<span class="badge {style}">{escaped_label}</span>'


def _status_style(status: str) -> str:
    return STATUS_STYLES.get(status, "text-bg-dark")


def _risk_style(risk: str) -> str:
    return RISK_STYLES.get(risk, "text-bg-light border")


@register.simple_tag
def status_badge(status: str, label: str) -> SafeString:
    return mark_safe(_badge(_status_style(status), conditional_escape(label)))  # noqa: S308  # nosec B308 B703


@register.simple_tag
def risk_badge(risk: str, label: str) -> SafeString:
    return mark_safe(_badge(_risk_style(risk), conditional_escape(label)))  # noqa: S308  # nosec B308 B703


@register.simple_tag
def case_rows(cases) -> SafeString:
    """The case list's rows, written in Python: the list is the page staff open most, and the
    template language spent most of its time drawing 25 rows of nine cells one tag at a time.
    The same HTML as the template it replaces. Every value is escaped (html.escape, the
    characters Django's escape replaces), and each label is translated and escaped once per
    page, not once per row."""
    detail_prefix = escape(reverse("cases:detail", kwargs={"pk": 0}).removesuffix("0/"))
    emergency = f' <span class="badge text-bg-danger">{escape(_("Emergency"))}</span>'
    weapons = {True: escape(_("yes")), False: escape(_("no"))}
    months: dict = {}
    labels: dict[tuple[str, object], str] = {}

    def label(case, name: str) -> str:
        key = (name, getattr(case, name))
        text = labels.get(key)
        if text is None:
            text = labels[key] = escape(str(getattr(case, f"get_{name}_display")()))
        return text

    rows = []
    for case in cases:
        month = case.contact_month
        if month not in months:
            months[month] = escape(date_format(month, "YEAR_MONTH_FORMAT")) if month else ""
        rows.append(
            "<tr>\n"
            f'      <td class="text-nowrap"><a href="{detail_prefix}{int(case.pk)}/">'
            f"{escape(case.code)}</a>{emergency if case.emergency else ''}</td>\n"
            f"      <td>{_badge(_status_style(case.status), label(case, 'status'))}</td>\n"
            f'      <td class="text-nowrap d-none d-md-table-cell">{months[month]}</td>\n'
            f'      <td class="d-none d-md-table-cell">{label(case, "force")}</td>\n'
            f'      <td class="d-none d-md-table-cell">{label(case, "rank_group")}</td>\n'
            f'      <td class="d-none d-md-table-cell">{label(case, "region")}</td>\n'
            f'      <td class="d-none d-md-table-cell">{label(case, "journey_stage")}</td>\n'
            f"      <td>{_badge(_risk_style(case.risk_level), label(case, 'risk_level'))}</td>\n"
            f'      <td class="d-none d-md-table-cell">{weapons[bool(case.has_weapons)]}</td>\n'
            "    </tr>"
        )
    # Every value above is escaped (escape, int, fixed class names).
    return mark_safe("\n".join(rows))  # noqa: S308  # nosec B308 B703
