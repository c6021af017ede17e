"""Housing reports: bed-nights per month for all houses and per house, as charts and as a CSV
download built in the background (house code names and counts, nothing else)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from audit.models import AccessLog
from audit.services import log_access
from housing import selectors
from housing.charts import bar_chart_svg, bed_night_table
from housing.forms import ReportRangeForm
from housing.views.common import page_query
from operations.exports import Built, ExportContext, ExportError, ExportKind, register
from operations.views import start_export
from protection.exports import csv_safe

HOUSES_PER_PAGE = 24


@permission_required("housing.view_housing_reports", raise_exception=True)
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportRangeForm(request.GET)
    context: dict[str, Any] = {"form": form, "figures": selectors.stay_figures()}
    if form.is_valid():
        first, last = form.date_from, form.date_to
        last = min(last, timezone.localdate())
        table = bed_night_table(
            selectors.bed_nights_per_month(date_from=first, date_to=last), first=first, last=last
        )
        # A chart and a row per house, a page of houses at a time; the totals are all houses'.
        page = Paginator(table.houses, HOUSES_PER_PAGE).get_page(request.GET.get("page"))
        description = _(
            "Bars show the nights slept in all houses per month, from %(first)s to %(last)s: "
            "%(total)d bed-nights in all."
        ) % {
            "first": first.strftime("%Y-%m"),
            "last": last.strftime("%Y-%m"),
            "total": table.total,
        }
        context.update(
            table=table,
            page=page,
            house_rows=page.object_list,
            query=page_query(request),
            first=first,
            last=last,
            chart_description=description,
            chart=bar_chart_svg(
                chart_id="chart-all",
                title=_("Bed-nights per month, all houses"),
                description=description,
                months=table.months,
                values=table.month_totals,
            ),
            house_charts=[
                (
                    row,
                    bar_chart_svg(
                        chart_id=f"chart-house-{position}",
                        title=_("Bed-nights per month in %(house)s") % {"house": row.house_code},
                        description=_("%(total)d bed-nights in %(house)s in the range.")
                        % {"total": row.total, "house": row.house_code},
                        months=table.months,
                        values=row.nights,
                        width=480,
                        height=220,
                    ),
                )
                for position, row in enumerate(page.object_list, start=page.start_index())
            ],
        )
    return render(request, "housing/reports.html", context)


REPORT_EXPORT = "housing.bed_nights_csv"
REPORT_PERMISSION = "housing.view_housing_reports"


@permission_required(REPORT_PERMISSION, raise_exception=True)
@require_POST
def reports_export(request: HttpRequest) -> HttpResponse:
    """Start the CSV of bed-nights in the background (operations/exports.py) and show its
    progress; a range that is not right goes back to the reports with the reason."""
    form = ReportRangeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("housing:reports")
    first, last = form.date_from, form.date_to
    return start_export(
        request,
        kind=REPORT_EXPORT,
        arguments={"start": f"{first:%Y-%m}", "end": f"{last:%Y-%m}"},
        back=reverse("housing:reports"),
    )


def _check_report(actor, arguments: dict) -> None:
    if not ReportRangeForm(arguments).is_valid():
        raise ExportError(_("Check the months of the range."))


def _build_report(context: ExportContext) -> Built:
    """Bed-nights per house and month: house code names and counts, nothing else."""
    form = ReportRangeForm(context.arguments)
    form.is_valid()
    first, last = form.date_from, form.date_to
    last = min(last, timezone.localdate())
    rows = selectors.bed_nights_per_month(date_from=first, date_to=last)
    context.progress.total(len(rows))
    text = io.TextIOWrapper(context.output, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(["house", "month", "bed_nights"])
    for row in rows:
        writer.writerow([csv_safe(row.house_code), row.month.strftime("%Y-%m"), row.nights])
    text.detach()
    context.progress.advance(len(rows))
    log_access(
        action=AccessLog.Action.EXPORT,
        actor=context.actor,
        target_label="housing bed-nights",
        detail={
            "report": "housing_bed_nights",
            "from": first.isoformat(),
            "to": last.isoformat(),
            "rows": len(rows),
        },
    )
    return Built(f"haven-bed-nights-{first:%Y-%m}-to-{last:%Y-%m}.csv", "text/csv; charset=utf-8")


def register_exports() -> None:
    """Called from HousingConfig.ready()."""
    register(
        ExportKind(
            code=REPORT_EXPORT,
            label=gettext_lazy("Bed-nights (CSV)"),
            permission=REPORT_PERMISSION,
            build=_build_report,
            check=_check_report,
            back_url=lambda arguments: reverse("housing:reports"),
            arguments={"start": str, "end": str},
        )
    )
