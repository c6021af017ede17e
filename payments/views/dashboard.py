"""The finance dashboard: what was paid per month and currency, the current batches and the
one-off payments awaiting approval."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from payments import selectors
from payments.charts import paid_chart_svg, paid_description
from payments.views.common import ONE_OFF_READ

DASHBOARD_MONTHS = 12


@permission_required("payments.view_finance_reports", raise_exception=True)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    rows, currencies = selectors.paid_per_month(months=DASHBOARD_MONTHS)
    charts = [
        {
            "currency": currency,
            "svg": paid_chart_svg(rows, currency),
            "description": paid_description(rows, currency),
            "total": sum((row.by_currency[currency] for row in rows), start=selectors.ZERO),
        }
        for currency in currencies
    ]
    user = request.user
    return render(
        request,
        "payments/dashboard.html",
        {
            "rows": [
                {
                    "month": row.month,
                    "amounts": [(row.by_currency[currency], currency) for currency in currencies],
                }
                for row in rows
            ],
            "currencies": currencies,
            "charts": charts,
            "batches": selectors.current_batches(),
            "awaiting": list(selectors.one_offs_awaiting_approval()[:50]),
            "may_see_batches": user.has_perm("payments.view_disbursementbatch"),
            "may_see_one_offs": all(user.has_perm(permission) for permission in ONE_OFF_READ),
            "today": timezone.localdate(),
        },
    )
