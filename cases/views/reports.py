"""The case reports page and its CSV export: counts and case codes only, never identity."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.models import AccessLog
from audit.services import log_access
from cases import selectors
from cases.charts import chart_description, monthly_chart_svg
from cases.choices import Force, RankGroup
from protection.exports import csv_safe

DEFAULT_MONTHS = 24
MAX_MONTHS = 120
MONTH_FORMAT = "%Y-%m"

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).


def add_months(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def current_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


class MonthInput(forms.DateInput):
    input_type = "month"


class MonthField(forms.DateField):
    """A month written YYYY-MM (what <input type="month"> sends), as its first day."""

    input_formats = [MONTH_FORMAT]
    default_error_messages = {
        "invalid": gettext_lazy("Enter a month as YYYY-MM, for example 2021-07."),
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "widget",
            MonthInput(
                format=MONTH_FORMAT, attrs={"placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}
            ),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace(day=1) if value else value


class ReportRangeForm(forms.Form):
    """The months a report covers. A blank field takes its default (the last 24 months)."""

    # Never blank after __init__ fills the defaults, so not marked required in the page.
    start = MonthField(label=gettext_lazy("From (month)"), required=False)
    end = MonthField(label=gettext_lazy("To (month)"), required=False)

    def __init__(self, query: dict, **kwargs) -> None:
        end = current_month()
        defaults = {
            "start": add_months(end, -(DEFAULT_MONTHS - 1)).strftime(MONTH_FORMAT),
            "end": end.strftime(MONTH_FORMAT),
        }
        data = {
            name: (query.get(name) or "").strip()[:20] or default
            for name, default in defaults.items()
        }
        super().__init__(data, **kwargs)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None or end is None:
            return cleaned
        if end > current_month():
            self.add_error("end", _("The end month cannot be after the current month."))
        elif start > end:
            self.add_error("start", _("The start month must not be after the end month."))
        elif add_months(start, MAX_MONTHS) <= end:
            self.add_error(
                "start",
                _("Choose a range of at most %(years)d years (%(months)d months).")
                % {"years": MAX_MONTHS // 12, "months": MAX_MONTHS},
            )
        return cleaned

    @property
    def date_from(self) -> datetime.date:
        return self.cleaned_data["start"]

    @property
    def date_to(self) -> datetime.date:
        """The last day of the end month."""
        return add_months(self.cleaned_data["end"], 1) - datetime.timedelta(days=1)


@dataclass
class Summary:
    total_contacts: int
    total_verified: int
    peak: selectors.MonthRow | None
    latest: selectors.MonthRow | None
    recent_average: float


def summarise(rows: list[selectors.MonthRow]) -> Summary:
    """The few figures staff look for first: totals, the busiest month, the latest month."""
    recent = rows[-3:]
    return Summary(
        total_contacts=sum(row.contacts for row in rows),
        total_verified=sum(row.verified for row in rows),
        peak=max(rows, key=lambda row: row.contacts) if any(row.contacts for row in rows) else None,
        latest=rows[-1] if rows else None,
        recent_average=(sum(row.contacts for row in recent) / len(recent)) if recent else 0,
    )


def breakdown_tables(breakdowns: dict[str, list[selectors.BreakdownRow]]) -> list[dict]:
    """The breakdowns with their titles; forces and rank groups in their natural order."""
    natural_order = {"force": Force.values, "rank_group": RankGroup.values}
    titles = {
        "force": _("By force"),
        "rank_group": _("By rank group"),
        "region": _("By state or region"),
        "weapons": _("With or without weapons"),
    }
    tables = []
    for key, title in titles.items():
        rows = breakdowns.get(key, [])
        if key in natural_order:
            order = natural_order[key]
            rows = sorted(rows, key=lambda row: order.index(row.key) if row.key in order else 99)
        tables.append({"key": key, "title": title, "rows": rows})
    return tables


@require_GET
@permission_required("cases.view_case_reports", raise_exception=True)
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportRangeForm(request.GET)
    context: dict = {"form": form}
    if form.is_valid():
        rows = selectors.monthly_counts(date_from=form.date_from, date_to=form.date_to)
        context.update(
            rows=rows,
            summary=summarise(rows),
            chart=monthly_chart_svg(rows, element_id="monthly-chart"),
            chart_description=chart_description(rows),
            breakdowns=breakdown_tables(
                selectors.breakdowns(date_from=form.date_from, date_to=form.date_to)
            ),
            start=form.cleaned_data["start"].strftime(MONTH_FORMAT),
            end=form.cleaned_data["end"].strftime(MONTH_FORMAT),
        )
    return render(request, "cases/reports.html", context)


# --- CSV export ---------------------------------------------------------------------------------

EXPORT_KINDS = ("summary", "cases")


def _summary_rows(date_from: datetime.date, date_to: datetime.date) -> list[list]:
    rows = [[_("section"), _("key"), _("label"), _("contacts"), _("verified")]]
    for month in selectors.monthly_counts(date_from=date_from, date_to=date_to):
        key = month.month.strftime(MONTH_FORMAT)
        rows.append(["month", key, key, month.contacts, month.verified])
    for section, entries in selectors.breakdowns(date_from=date_from, date_to=date_to).items():
        rows.extend(
            [section, entry.key, entry.label, entry.contacts, entry.verified] for entry in entries
        )
    return rows


def _case_rows(date_from: datetime.date, date_to: datetime.date) -> list[list]:
    rows = [
        [
            _("case code"),
            _("contact month"),
            _("force"),
            _("rank group"),
            _("region"),
            _("status"),
            _("has weapons"),
        ]
    ]
    rows.extend(
        [
            case["code"],
            case["contact_month"].strftime(MONTH_FORMAT),
            case["force"],
            case["rank_group_value"],
            case["region"],
            case["status"],
            "yes" if case["has_weapons"] else "no",
        ]
        for case in selectors.report_case_rows(date_from=date_from, date_to=date_to)
    )
    return rows


@never_cache
@require_GET
@permission_required("cases.export_case_reports", raise_exception=True)
def reports_export(request: HttpRequest) -> HttpResponse:
    form = ReportRangeForm(request.GET)
    kind = request.GET.get("kind", "summary")
    if kind not in EXPORT_KINDS:
        form.is_valid()
        form.add_error(None, _("Choose what to export: the figures or one row per case."))
    if not form.is_valid():
        return render(request, "cases/reports.html", {"form": form}, status=400)
    build = _summary_rows if kind == "summary" else _case_rows
    rows = build(form.date_from, form.date_to)
    start = form.cleaned_data["start"].strftime(MONTH_FORMAT)
    end = form.cleaned_data["end"].strftime(MONTH_FORMAT)

    buffer = io.StringIO()
    # A byte-order mark, so spreadsheets read the (possibly Burmese) labels as UTF-8.
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerows([csv_safe(cell) for cell in row] for row in rows)
    log_access(
        action=AccessLog.Action.EXPORT,
        actor=request.user,
        request=request,
        target_label=f"case report ({kind})",
        detail={"report": f"cases.{kind}", "from": start, "to": end, "rows": len(rows) - 1},
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"haven-cases-{kind}-{start}-to-{end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
