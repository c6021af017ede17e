"""Reads of the ledger: its entries, its totals (from the running totals the ledger's trigger
keeps) and what was paid per month for the finance dashboard."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import QuerySet, Sum
from django.utils import timezone

from payments.models import FundingSource, LedgerAccount, LedgerEntry, LedgerMonthTotal
from payments.selectors.disbursement import ZERO, month_bounds

# --- the ledger ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerFilters:
    funding_source: FundingSource | None = None
    currency: str = ""
    month: datetime.date | None = None


def ledger_entries(*, filters: LedgerFilters) -> QuerySet[LedgerEntry]:
    """Entries, newest first; the month is when the money moved (the entry's time)."""
    entries = LedgerEntry.objects.select_related(
        "funding_source", "batch", "payment__case", "one_off__case", "actor"
    )
    if filters.funding_source is not None:
        entries = entries.filter(funding_source=filters.funding_source)
    if filters.currency:
        entries = entries.filter(currency=filters.currency)
    if filters.month is not None:
        start, end = month_bounds(filters.month)
        entries = entries.filter(at__gte=start, at__lt=end)
    return entries.order_by("-at", "-pk")


@dataclass
class LedgerTotalRow:
    currency: str
    funding_source: str
    committed: Decimal = ZERO
    disbursed: Decimal = ZERO
    released: Decimal = ZERO

    @property
    def moved(self) -> Decimal:
        """Money settled either way: paid out or released back."""
        return self.disbursed + self.released


def ledger_month_totals(*, filters: LedgerFilters) -> QuerySet[LedgerMonthTotal]:
    """The ledger's running totals (kept by its insert trigger) under the same filters as
    `ledger_entries`: a few rows a month, however many entries."""
    totals = LedgerMonthTotal.objects.all()
    if filters.funding_source is not None:
        totals = totals.filter(funding_source=filters.funding_source)
    if filters.currency:
        totals = totals.filter(currency=filters.currency)
    if filters.month is not None:
        totals = totals.filter(month=filters.month.replace(day=1))
    return totals


def ledger_entry_count(*, filters: LedgerFilters) -> int:
    """How many entries `ledger_entries` holds, from the running totals."""
    return ledger_month_totals(filters=filters).aggregate(count=Sum("entries"))["count"] or 0


def ledger_totals(*, filters: LedgerFilters) -> list[LedgerTotalRow]:
    """Per currency and funding source, the sum of each account over the filtered entries:
    committed (what is approved and not yet settled), disbursed, released."""
    sums = (
        ledger_month_totals(filters=filters)
        .order_by()
        .values("currency", "funding_source__name", "account")
        .annotate(total=Sum("amount"))
    )
    rows: dict[tuple[str, str], LedgerTotalRow] = {}
    for entry in sums:
        key = (entry["currency"], entry["funding_source__name"])
        row = rows.setdefault(key, LedgerTotalRow(currency=key[0], funding_source=key[1]))
        setattr(row, entry["account"], entry["total"] or ZERO)
    return [rows[key] for key in sorted(rows)]


def ledger_currency_totals(rows: list[LedgerTotalRow]) -> list[LedgerTotalRow]:
    """The rows of `ledger_totals` added up per currency (never across currencies)."""
    totals: dict[str, LedgerTotalRow] = {}
    for row in rows:
        total = totals.setdefault(row.currency, LedgerTotalRow(row.currency, ""))
        total.committed += row.committed
        total.disbursed += row.disbursed
        total.released += row.released
    return [totals[currency] for currency in sorted(totals)]


# --- the finance dashboard ----------------------------------------------------------------------


@dataclass
class PaidMonth:
    month: datetime.date
    by_currency: dict[str, Decimal] = field(default_factory=dict)


def paid_per_month(*, months: int = 12) -> tuple[list[PaidMonth], list[str]]:
    """What was paid out (the ledger's disbursed account) for each of the last `months` months,
    per currency, oldest first; and the currencies that appear. A stipend counts in the month
    its line pays (a late payout still belongs to its month), a one-off in the month it was
    paid. Months with nothing paid are listed with zeros, so a gap is visible."""
    this_month = timezone.localdate().replace(day=1)
    first = this_month - relativedelta(months=months - 1)
    sums = (
        LedgerMonthTotal.objects.filter(account=LedgerAccount.DISBURSED, period__gte=first)
        .order_by()
        .values("period", "currency")
        .annotate(total=Sum("amount"))
    )
    paid: dict[datetime.date, dict[str, Decimal]] = defaultdict(dict)
    currencies: set[str] = set()
    for row in sums:
        month = row["period"]
        month = month.date() if isinstance(month, datetime.datetime) else month
        paid[month.replace(day=1)][row["currency"]] = row["total"]
        currencies.add(row["currency"])
    ordered = sorted(currencies)
    rows = []
    for offset in range(months):
        month = first + relativedelta(months=offset)
        rows.append(
            PaidMonth(
                month=month,
                by_currency={currency: paid[month].get(currency, ZERO) for currency in ordered},
            )
        )
    return rows, ordered
