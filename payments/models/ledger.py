"""The append-only ledger of every movement of money, and its running totals by month."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from payments.choices import LedgerAccount
from payments.models.disbursement import (
    MONEY,
    DisbursementBatch,
    FundingSource,
    OneOffPayment,
    Payment,
)
from payments.money import Currency
from protection.choice_labels import CachedChoiceLabels


class LedgerEntry(CachedChoiceLabels, models.Model):
    """Append-only: every movement of money. A database trigger refuses updates and deletes."""

    at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("entered at"))
    account = models.CharField(
        max_length=10, choices=LedgerAccount.choices, verbose_name=_("account")
    )
    amount = models.DecimalField(**MONEY, verbose_name=_("amount"))
    currency = models.CharField(max_length=3, choices=Currency.choices, verbose_name=_("currency"))
    funding_source = models.ForeignKey(
        FundingSource,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("funding source"),
    )
    batch = models.ForeignKey(
        DisbursementBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("batch"),
    )
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("payment"),
    )
    one_off = models.ForeignKey(
        OneOffPayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("one-off payment"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    memo = models.CharField(max_length=200, blank=True, verbose_name=_("memo"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero")
        ]
        # A batch's balance (closing it) from the index alone.
        indexes = [
            models.Index(fields=["batch"], include=["amount"], name="ledger_batch_amounts"),
            # The ledger page, newest first: an approval writes thousands of entries at one
            # instant, which an index on the time alone must all sort by id.
            models.Index(fields=["at", "id"], name="ledger_newest_first"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="ledger_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
            # Every insert adds itself to LedgerMonthTotal in the same statement: once per
            # statement (a batch approval writes a line's entry for every line at once), the
            # totals rows locked in one order so that concurrent writers queue, not deadlock.
            pgtrigger.Trigger(
                name="ledger_month_totals",
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                level=pgtrigger.Statement,
                referencing=pgtrigger.Referencing(new="new_entries"),
                func=f"""
                    INSERT INTO payments_ledgermonthtotal
                        (account, currency, funding_source_id, month, period, amount, entries)
                    SELECT entry.account, entry.currency, entry.funding_source_id,
                           date_trunc('month', entry.at AT TIME ZONE '{settings.TIME_ZONE}')::date,
                           line.period, sum(entry.amount), count(*)
                    FROM new_entries AS entry
                    LEFT JOIN payments_payment AS line ON line.id = entry.payment_id
                    GROUP BY 1, 2, 3, 4, 5
                    ORDER BY 1, 2, 3, 4, 5
                    ON CONFLICT (account, currency, funding_source_id, month, period)
                    DO UPDATE SET amount = payments_ledgermonthtotal.amount + EXCLUDED.amount,
                                  entries = payments_ledgermonthtotal.entries + EXCLUDED.entries;
                    RETURN NULL;
                """,  # noqa: S608  (the time zone is a setting, not input)
            ),
        ]

    def __str__(self) -> str:
        day = formats.localize(timezone.localdate(self.at))
        return f"{day} {self.account} {self.amount} {self.currency}"


class LedgerMonthTotal(models.Model):
    """The ledger added up: per account, currency, funding source, month the money moved (in
    Haven's time zone) and month the line pays (empty for entries without a line). Written only
    by the ledger's insert trigger, so it always equals the entries' sums; the ledger page and
    the finance dashboard read these few rows instead of adding up millions of entries."""

    account = models.CharField(
        max_length=10, choices=LedgerAccount.choices, verbose_name=_("account")
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, verbose_name=_("currency"))
    funding_source = models.ForeignKey(
        FundingSource, on_delete=models.PROTECT, related_name="+", verbose_name=_("funding source")
    )
    month = models.DateField(_("month entered"))
    period = models.DateField(_("month paid"), null=True, blank=True)
    amount = models.DecimalField(**MONEY, verbose_name=_("amount"))
    entries = models.PositiveIntegerField(_("entries"))

    class Meta:
        verbose_name = _("ledger total of a month")
        verbose_name_plural = _("ledger totals by month")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "currency", "funding_source", "month", "period"],
                nulls_distinct=False,
                name="one_ledger_total_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.account} {self.amount} {self.currency}"
