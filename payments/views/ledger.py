"""The ledger page: entries filtered by funding source, currency and month, with the totals of
each account."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from payments import selectors
from payments.forms import LedgerFilterForm

LEDGER_PAGE_SIZE = 50


@permission_required("payments.view_finance_reports", raise_exception=True)
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """Entries filtered by funding source, currency and month (when the money moved), and the
    totals of each account per currency and funding source."""
    form = LedgerFilterForm(request.GET or None)
    filters = selectors.LedgerFilters()
    query = ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.LedgerFilters(
            funding_source=data["funding_source"],
            currency=data["currency"],
            month=data["month"],
        )
        parts = []
        if data["funding_source"]:
            parts.append(f"funding_source={data['funding_source'].pk}")
        if data["currency"]:
            parts.append(f"currency={data['currency']}")
        if data["month"]:
            parts.append(f"month={data['month']:%Y-%m}")
        query = "".join(f"{part}&" for part in parts)
    entries = selectors.ledger_entries(filters=filters)
    paginator = Paginator(entries, LEDGER_PAGE_SIZE)
    # Counted from the running totals: a count(*) over millions of entries took longer than
    # the rest of the page.
    paginator.count = selectors.ledger_entry_count(filters=filters)
    page = paginator.get_page(request.GET.get("page"))
    totals = selectors.ledger_totals(filters=filters)
    return render(
        request,
        "payments/ledger.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "totals": totals,
            "currency_totals": selectors.ledger_currency_totals(totals),
            "filtered": bool(query),
            "may_see_batches": request.user.has_perm("payments.view_disbursementbatch"),
        },
    )
