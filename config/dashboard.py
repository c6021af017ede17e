"""The landing page after login: what is urgent, what waits for the user and the figures that
matter, each block only for the roles allowed to see it. It calls the selectors of every app,
so it lives here, where nothing imports it back (STYLE.md: imports run one way)."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Count, QuerySet, Window
from django.db.models.query import ModelIterable
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import role_names
from cases import selectors as case_selectors
from cases.charts import chart_description, monthly_chart_svg
from housing import selectors as housing_selectors
from journeys import selectors as journey_selectors
from notifications import selectors as notification_selectors
from operations.figures import shared_figure
from payments import selectors as payment_selectors

# How many case codes a block lists before it says "and N more".
PREVIEW_SIZE = 5
CHART_MONTHS = 24
# The columns the previews show (a code, who and when): the whole rows of a journey or a
# break-the-glass use and of their case are about a hundred columns, and building the query for
# them took a fifth of the dashboard's time.
JOURNEY_PREVIEW_FIELDS = ("pk", "case__code")
GLASS_PREVIEW_FIELDS = (
    "pk",
    "opened_at",
    "case__code",
    "user__username",
    "user__first_name",
    "user__last_name",
)


@dataclass
class Preview:
    """How many there are, and the first few of them (most urgent first)."""

    count: int
    first: list = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.count - len(self.first)


def preview(items: QuerySet | Sequence, size: int = PREVIEW_SIZE) -> Preview:
    """The first `size` items and how many there are: one query for a queryset, always (so the
    page's query count does not depend on the data), counting every row with a window over the
    whole result (worked out after any GROUP BY) before the first few are taken."""
    if not isinstance(items, QuerySet):
        return Preview(count=len(items), first=list(items[:size]))
    if items.query.distinct or items.query.combinator or items._iterable_class is not ModelIterable:
        # A window is worked out before DISTINCT (it would count the duplicates), cannot be added
        # to a UNION, and rows of values() have no attribute to carry it: counted apart.
        return Preview(count=items.count(), first=list(items[:size]))
    first = list(items.annotate(preview_total=Window(Count("*")))[:size])
    return Preview(count=first[0].preview_total if first else 0, first=first)


@dataclass
class WaitingFigures:
    count: int
    longest_wait_days: int | None
    first: list


def _waiting_figures(today: datetime.date) -> WaitingFigures:
    def figures() -> tuple[int, datetime.date | None, list]:
        waiting = housing_selectors.waiting_list()
        return waiting.count(), waiting.oldest_since(), waiting.places(limit=3)

    count, oldest, places = shared_figure(f"dashboard:waiting:{today}", figures)
    return WaitingFigures(
        count=count,
        longest_wait_days=(today - oldest).days if oldest is not None else None,
        first=housing_selectors.WaitingList.entries_of(places),
    )


def _chart(today: datetime.date) -> dict[str, Any]:
    this_month = today.replace(day=1)
    rows = shared_figure(
        f"dashboard:monthly:{today}",
        lambda: case_selectors.monthly_counts(
            date_from=this_month - relativedelta(months=CHART_MONTHS - 1), date_to=today
        ),
    )
    # The chart and its table drawn from those very figures (numbers and month names only), in
    # the reader's language: drawing them took a tenth of the dashboard's time.
    figures = hashlib.blake2b(repr(rows).encode(), digest_size=8).hexdigest()
    html = shared_figure(
        f"dashboard:monthly-chart:{figures}:{get_language()}",
        lambda: render_to_string(
            "partials/monthly_chart.html",
            {
                "rows": rows,
                "svg": monthly_chart_svg(rows, element_id="dashboard-monthly-chart"),
                "description": chart_description(rows),
            },
        ),
    )
    # A SafeString from the template, kept as one by the cache.
    return {"html": html}


def _alerts(user, occupancy: housing_selectors.OccupancySummary | None) -> dict[str, Any]:
    """Only what needs someone now; a kind of alert the user may not see stays None."""
    alerts: dict[str, Any] = {
        "compromised": occupancy.compromised if occupancy is not None else None,
        "emergencies": None,
        "batches": None,
        "one_offs": None,
        "glass": None,
    }
    if user.has_perm("cases.view_case"):
        alerts["emergencies"] = preview(case_selectors.emergency_cases())
    if user.has_perm("cases.review_break_glass"):
        alerts["glass"] = preview(
            case_selectors.glass_awaiting_review(user=user).only(*GLASS_PREVIEW_FIELDS)
        )
    if user.has_perm("payments.approve_batch"):
        alerts["batches"] = list(payment_selectors.batches_awaiting_approval(user=user))
        alerts["one_offs"] = preview(payment_selectors.one_offs_awaiting_approval_by(user=user))
    eligible = [value for value in alerts.values() if value is not None]
    alerts["eligible"] = bool(eligible)
    alerts["any"] = any(
        value.count if isinstance(value, Preview) else len(value) for value in eligible
    )
    return alerts


@require_GET
@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    this_month = today.replace(day=1)
    context: dict[str, Any] = {
        "today": today,
        "now": timezone.now(),
        "this_month": this_month,
        "has_role": user.is_superuser or bool(role_names(user)),
        "awaiting": None,
        "verified_this_month": None,
        "waiting": None,
        "occupancy": None,
        "batches": None,
        "chart": None,
        "journeys_due": None,
        "debriefs_due": None,
        "urgent_alerts": preview(notification_selectors.unread_urgent(user)),
    }
    if not context["has_role"]:
        return render(request, "dashboard.html", context)

    if user.has_perm("housing.view_bed"):
        context["occupancy"] = housing_selectors.occupancy_summary()
    context["alerts"] = _alerts(user, context["occupancy"])
    if user.has_perm("cases.verify_case") or user.has_perm("cases.decide_case"):
        context["awaiting"] = preview(case_selectors.awaiting_action(user=user))
    if user.has_perm("cases.view_case_reports"):
        context["verified_this_month"] = shared_figure(
            f"dashboard:verified:{this_month}",
            lambda: case_selectors.verified_in_month(month=this_month),
        )
        context["chart"] = _chart(today)
    if user.has_perm("housing.view_allocation"):
        context["waiting"] = _waiting_figures(today)
    if user.has_perm("journeys.plan_journey") or user.has_perm("journeys.handle_journey"):
        context["journeys_due"] = preview(
            journey_selectors.due_soon(user).only(*JOURNEY_PREVIEW_FIELDS)
        )
        context["debriefs_due"] = preview(
            journey_selectors.debriefs_to_record(user).only(*JOURNEY_PREVIEW_FIELDS)
        )
    if user.has_perm("payments.view_disbursementbatch"):
        batches = payment_selectors.batches_of_month(month=this_month)
        context["batches"] = batches
        context["batch_this_month"] = any(batch.period == this_month for batch in batches)
    return render(request, "dashboard.html", context)
