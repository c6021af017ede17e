"""The ledger's running totals (LedgerMonthTotal, kept by a trigger on every insert) always
equal the sums of the entries themselves, so that the ledger page and the finance dashboard can
read a few rows instead of millions (issue 22)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.roles import Role
from payments import selectors, services
from payments.models import LedgerEntry, LedgerMonthTotal
from tests.factories import FundingSourceFactory, StipendPlanFactory

pytestmark = pytest.mark.django_db

THIS_MONTH = timezone.localdate().replace(day=1)


def totals_from_entries() -> dict:
    """The entries added up by the totals' key, straight from the ledger."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT entry.account, entry.currency, entry.funding_source_id,
                   date_trunc('month', entry.at AT TIME ZONE %s)::date, line.period,
                   sum(entry.amount), count(*)
            FROM payments_ledgerentry AS entry
            LEFT JOIN payments_payment AS line ON line.id = entry.payment_id
            GROUP BY 1, 2, 3, 4, 5
            """,
            [timezone.get_default_timezone_name()],
        )
        return {tuple(row[:5]): (row[5], row[6]) for row in cursor.fetchall()}


def running_totals() -> dict:
    return {
        (row.account, row.currency, row.funding_source_id, row.month, row.period): (
            row.amount,
            row.entries,
        )
        for row in LedgerMonthTotal.objects.all()
    }


def test_running_totals_follow_a_month_from_approval_to_close(make_staff):
    officer = make_staff(Role.FINANCE_OFFICER)
    approver = make_staff(Role.FINANCE_APPROVER)
    baht = FundingSourceFactory(name="Fictional Relief Fund")
    kyat = FundingSourceFactory(name="Fictional Kyat Fund", currency="MMK")
    StipendPlanFactory.create_batch(3, funding_source=baht, created_by=officer)
    StipendPlanFactory(funding_source=kyat, currency="MMK", amount="150000", created_by=officer)
    batches = services.disbursement_run(period=THIS_MONTH, actor=officer)
    assert running_totals() == {}

    for batch in batches:
        services.batch_approve(batch=batch, actor=approver)
    assert running_totals() == totals_from_entries() != {}

    thb = next(batch for batch in batches if batch.currency == "THB")
    services.batch_take_for_payout(batch=thb, actor=officer)
    first, second, third = list(thb.lines.order_by("pk"))
    services.payments_record(
        payments=[first, second], actor=officer, outcome="paid", method="cash", acknowledged=True
    )
    services.payments_record(payments=[third], actor=officer, outcome="unclaimed")
    assert running_totals() == totals_from_entries()

    # What the pages show agrees with the entries, filtered or not.
    filters = selectors.LedgerFilters(currency="THB", month=THIS_MONTH)
    entries = LedgerEntry.objects.filter(currency="THB")
    assert selectors.ledger_entry_count(filters=filters) == entries.count()
    by_account = dict(entries.order_by().values_list("account").annotate(total=Sum("amount")))
    (row,) = selectors.ledger_totals(filters=filters)
    assert (row.committed, row.disbursed, row.released) == (
        by_account["committed"],
        by_account["disbursed"],
        by_account["released"],
    )
    months, currencies = selectors.paid_per_month(months=1)
    assert months[0].by_currency["THB"] == first.amount + second.amount
    assert currencies == ["THB"]
    assert LedgerEntry.objects.aggregate(count=Count("pk"))["count"] == sum(
        entries for _amount, entries in running_totals().values()
    )
