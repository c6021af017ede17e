"""The ledger: writing an entry, and the invariant totals of a batch (its ledger against its
lines)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum

from payments.models import DisbursementBatch, LedgerEntry, Payment, PaymentStatus


def _ledger(**fields: Any) -> LedgerEntry:
    return LedgerEntry.objects.create(**fields)


def batch_ledger_total(batch: DisbursementBatch) -> Decimal:
    return LedgerEntry.objects.filter(batch=batch).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal(0)


def batch_lines_total(batch: DisbursementBatch) -> Decimal:
    return Payment.objects.filter(batch=batch).exclude(status=PaymentStatus.CANCELLED).aggregate(
        total=Sum("amount")
    )["total"] or Decimal(0)
