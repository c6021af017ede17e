"""The case reports page and its CSV export, built in the background: counts and case codes
only, never identity."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import MONTH_FORMAT, MonthRangeForm
from audit.models import AccessLog
from audit.services import log_access
from cases import selectors
from cases.charts import chart_description, monthly_chart_svg
from cases.choices import Force, RankGroup
from operations.exports import Built, ExportContext, ExportError, ExportKind, register
from operations.views import start_export
from protection.exports import csv_safe

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).


def current_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


class ReportRangeForm(MonthRangeForm):
    """The months the case and journey reports cover: the last 24 months unless chosen."""

    default_months = 24


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
            case["rank_group"],
            case["region"],
            case["status"],
            "yes" if case["has_weapons"] else "no",
        ]
        for case in selectors.report_case_rows(date_from=date_from, date_to=date_to)
    )
    return rows


REPORT_EXPORT = "cases.report_csv"
EXPORT_PERMISSION = "cases.export_case_reports"


@permission_required(EXPORT_PERMISSION, raise_exception=True)
@require_POST
def reports_export(request: HttpRequest) -> HttpResponse:
    """Start the CSV of the range in the background (operations/exports.py) and show its
    progress; a range that is not right is said on the page, and nothing starts."""
    form = ReportRangeForm(request.POST)
    kind = request.POST.get("kind", "summary")
    if kind not in EXPORT_KINDS:
        form.is_valid()
        form.add_error(None, _("Choose what to export: the figures or one row per case."))
    if not form.is_valid():
        return render(request, "cases/reports.html", {"form": form}, status=400)
    start = form.cleaned_data["start"].strftime(MONTH_FORMAT)
    end = form.cleaned_data["end"].strftime(MONTH_FORMAT)
    return start_export(
        request,
        kind=REPORT_EXPORT,
        arguments={"report": kind, "start": start, "end": end},
        back=f"{reverse('cases:reports')}?{urlencode({'start': start, 'end': end})}",
    )


def _check_report(actor, arguments: dict) -> None:
    if arguments["report"] not in EXPORT_KINDS or not ReportRangeForm(arguments).is_valid():
        raise ExportError(_("Check the months of the range."))


def _build_report(context: ExportContext) -> Built:
    """The CSV: counts and case codes only, never identity; logged as the download was."""
    form = ReportRangeForm(context.arguments)
    form.is_valid()
    kind = context.arguments["report"]
    build = _summary_rows if kind == "summary" else _case_rows
    rows = build(form.date_from, form.date_to)
    context.progress.total(len(rows) - 1)
    start = form.cleaned_data["start"].strftime(MONTH_FORMAT)
    end = form.cleaned_data["end"].strftime(MONTH_FORMAT)
    text = io.TextIOWrapper(context.output, encoding="utf-8", newline="", write_through=True)
    # A byte-order mark, so spreadsheets read the (possibly Burmese) labels as UTF-8.
    text.write("\ufeff")
    csv.writer(text).writerows([csv_safe(cell) for cell in row] for row in rows)
    text.detach()
    context.progress.advance(len(rows) - 1)
    log_access(
        action=AccessLog.Action.EXPORT,
        actor=context.actor,
        target_label=f"case report ({kind})",
        detail={"report": f"cases.{kind}", "from": start, "to": end, "rows": len(rows) - 1},
    )
    return Built(f"haven-cases-{kind}-{start}-to-{end}.csv", "text/csv; charset=utf-8")


def register_exports() -> None:
    """Called from CasesConfig.ready()."""
    register(
        ExportKind(
            code=REPORT_EXPORT,
            label=gettext_lazy("Case report (CSV)"),
            permission=EXPORT_PERMISSION,
            build=_build_report,
            check=_check_report,
            back_url=lambda arguments: reverse("cases:reports"),
            arguments={"report": str, "start": str, "end": str},
        )
    )
