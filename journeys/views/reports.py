"""Journey statistics: the page with its chart, and the CSV of codes and counts."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.forms import MONTH_FORMAT
from audit.models import AccessLog
from audit.services import log_access
from cases.charts import bar_line_chart_svg
from cases.views.reports import ReportRangeForm
from journeys import selectors
from protection.exports import csv_safe


def _chart(report: selectors.JourneyReport):
    rows = report.months
    total_contacts = sum(row.contacts for row in rows)
    total_lost = sum(row.lost_contact for row in rows)
    description = _(
        "Bars show new contacts per month; the line with circles shows journeys that lost "
        "contact (a missed check-in that reached the contingency step). Totals for the range: "
        "contacts %(contacts)d, lost contact %(lost)d."
    ) % {"contacts": total_contacts, "lost": total_lost}
    return bar_line_chart_svg(
        [(row.month, row.contacts, row.lost_contact) for row in rows],
        title=_("New contacts and lost contact per month"),
        description=description,
        bar_legend=_("New contacts (bars)"),
        line_legend=_("Lost contact (line with circles)"),
        bar_tooltip=lambda month, contacts, lost: (
            _("%(month)s: new contacts %(contacts)d, lost contact %(lost)d")
            % {"month": month, "contacts": contacts, "lost": lost}
        ),
        line_tooltip=lambda month, lost: (
            _("%(month)s: lost contact %(lost)d") % {"month": month, "lost": lost}
        ),
        element_id="journey-chart",
    ), description


@never_cache
@require_GET
@permission_required("journeys.view_journey_reports", raise_exception=True)
def journey_reports(request: HttpRequest) -> HttpResponse:
    form = ReportRangeForm(request.GET)
    if not form.is_valid():
        return render(request, "journeys/reports.html", {"form": form}, status=400)
    report = selectors.journey_report(date_from=form.date_from, date_to=form.date_to)
    chart, description = _chart(report)
    return render(
        request,
        "journeys/reports.html",
        {"form": form, "report": report, "chart": chart, "chart_description": description},
    )


def report_rows(report: selectors.JourneyReport) -> list[list]:
    """Codes and counts only, one figure per row: section, key, measure, value."""
    rows: list[list] = [["section", "key", "measure", "value"]]
    for month in report.months:
        key = month.month.strftime(MONTH_FORMAT)
        for measure in ("contacts", "started", "arrived", "missed", "lost_contact"):
            rows.append(["month", key, measure, getattr(month, measure)])
    arrival = report.arrival
    for measure in (
        "count",
        "median_months",
        "average_months",
        "shortest_months",
        "longest_months",
    ):
        value = getattr(arrival, measure)
        rows.append(["arrival", "all", measure, "" if value is None else round(value, 1)])
    for section, breakdown in (("region", report.by_region), ("channel", report.by_channel)):
        for row in breakdown:
            for measure in ("journeys", "arrived", "missed", "lost_contact", "median_months"):
                value = getattr(row, measure)
                rows.append([section, row.code, measure, "" if value is None else value])
    for row in report.outcomes:
        rows.append(["escalation", f"step{row.step}", row.outcome or "open", row.windows])
    for section, counts in (
        ("check_in_channel", report.check_in_channels),
        ("channel_worked", report.channels_worked),
        ("channel_failed", report.channels_failed),
        ("problem", report.problems),
        ("contingency_used", report.contingency_used),
    ):
        for row in counts:
            rows.append([section, row.code, "count", row.count])
    rows.append(["debrief", "all", "count", report.debriefs])
    return rows


@never_cache
@require_GET
@permission_required("journeys.export_journey_reports", raise_exception=True)
def journey_reports_export(request: HttpRequest) -> HttpResponse:
    form = ReportRangeForm(request.GET)
    if not form.is_valid():
        return render(request, "journeys/reports.html", {"form": form}, status=400)
    report = selectors.journey_report(date_from=form.date_from, date_to=form.date_to)
    rows = report_rows(report)
    start = form.cleaned_data["start"].strftime(MONTH_FORMAT)
    end = form.cleaned_data["end"].strftime(MONTH_FORMAT)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([csv_safe(cell) for cell in row] for row in rows)
    log_access(
        action=AccessLog.Action.EXPORT,
        actor=request.user,
        request=request,
        target_label="journey report",
        detail={"report": "journeys.statistics", "from": start, "to": end, "rows": len(rows) - 1},
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="haven-journeys-{start}-to-{end}.csv"'
    return response
