"""Reads of payments, with their queries decided once: lists show case codes only (never a
decrypted name) and never query per row. Totals are summed in SQL, in Decimal."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case
from cases.rules import visible_to
from operations.figures import shared_figure
from payments.models import (
    BatchStatus,
    DisbursementBatch,
    FundingSource,
    LedgerEntry,
    OneOffApproval,
    OneOffPayment,
    OneOffStatus,
    Payment,
    PaymentStatus,
    StipendPlan,
)
from protection.keys import Erased

ZERO = Decimal(0)
OPEN_BATCH_STATUSES = (BatchStatus.DRAFT, BatchStatus.APPROVED, BatchStatus.DISBURSING)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The aware start of a month and of the next one, in the current time zone, so a filter
    on a timestamp uses its index."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime(month.year, month.month, 1, tzinfo=zone)
    following = month + relativedelta(months=1)
    return start, datetime.datetime(following.year, following.month, 1, tzinfo=zone)


# --- plans of a case --------------------------------------------------------------------------


def case_plans(*, case: Case, with_payments: bool) -> list[StipendPlan]:
    """The case's plans, newest first, each with its funding source and (when the reader may
    see payments) its monthly lines and who recorded them."""
    plans = (
        StipendPlan.objects.filter(case=case)
        .select_related("funding_source", "created_by")
        .defer("payout_account")
        .annotate(has_account=Q(payout_account__isnull=False))
    )
    if with_payments:
        plans = plans.prefetch_related(
            Prefetch(
                "payments",
                queryset=Payment.objects.select_related("batch", "recorded_by").order_by(
                    "-period", "-pk"
                ),
            )
        )
    return list(plans.order_by("-start_date", "-pk"))


def case_one_offs(*, case: Case) -> list[OneOffPayment]:
    return list(
        OneOffPayment.objects.filter(case=case)
        .select_related("funding_source", "proposed_by")
        .order_by("-proposed_at", "-pk")
    )


def active_funding_sources() -> QuerySet[FundingSource]:
    return FundingSource.objects.filter(active=True).order_by("name")


# --- batches ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusTotal:
    status: str
    label: str
    count: int
    total: Decimal


def with_status_totals(batches) -> list[DisbursementBatch]:
    """Attach `status_totals` (lines and amount per line status, in the order of the statuses)
    to each batch, from one grouped query over the lines of these batches only."""
    batches = list(batches)
    sums: dict[int, dict[str, tuple[int, Decimal]]] = defaultdict(dict)

    def totals(pks: list[int]) -> list[dict]:
        return list(
            Payment.objects.filter(batch__in=pks)
            .order_by()
            .values("batch_id", "status")
            .annotate(count=Count("pk"), total=Sum("amount"))
        )

    # A closed month's lines no longer change: its totals (numbers by batch number) are kept
    # for a minute and shared (operations.figures), the open batches' counted now. A year of
    # closed months is a million lines to add up.
    # (Without that cache, one query for all, as the page's query count is then the same.)
    closed = sorted(batch.pk for batch in batches if batch.status == BatchStatus.CLOSED)
    still_open = [batch.pk for batch in batches if batch.status != BatchStatus.CLOSED]
    if closed and settings.HAVEN_FIGURES_CACHE_SECONDS > 0:
        key = "payments:closed-totals:" + ",".join(map(str, closed))
        rows = [*shared_figure(key, lambda: totals(closed))]
        rows.extend(totals(still_open) if still_open else [])
    else:
        rows = totals([batch.pk for batch in batches])
    for row in rows:
        sums[row["batch_id"]][row["status"]] = (row["count"], row["total"] or ZERO)
    for batch in batches:
        by_status = sums.get(batch.pk, {})
        batch.status_totals = [
            StatusTotal(status, label, *by_status[status])
            for status, label in PaymentStatus.choices
            if status in by_status
        ]
    return batches


def batch_list(*, statuses: tuple[str, ...] | None = None) -> QuerySet[DisbursementBatch]:
    """Batches, newest month first; pass a page of them through `with_status_totals`."""
    batches = DisbursementBatch.objects.select_related("prepared_by", "approved_by")
    if statuses:
        batches = batches.filter(status__in=statuses)
    return batches.order_by("-period", "currency")


def batch_detail(*, pk: int) -> DisbursementBatch:
    """One batch with its people and its totals by line status; DoesNotExist if unknown."""
    batch = DisbursementBatch.objects.select_related(
        "prepared_by", "approved_by", "rejected_by", "payout_officer"
    ).get(pk=pk)
    return with_status_totals([batch])[0]


def batch_lines(*, batch: DisbursementBatch, status: str = "") -> QuerySet[Payment]:
    """The lines of a batch by case code, with what the page shows of each (no identity)."""
    lines = Payment.objects.filter(batch=batch).select_related(
        "case", "recorded_by", "carried_from__batch"
    )
    if status:
        lines = lines.filter(status=status)
    # Whether a line was carried on, asked for the page's lines only (a count over the join
    # grouped the whole batch before the page was cut).
    carried = Payment.objects.filter(carried_from=OuterRef("pk"))
    return lines.annotate(carried_on=Exists(carried)).order_by("case__code", "pk")


def pending_lines(*, batch: DisbursementBatch, code: str = "") -> QuerySet[Payment]:
    """The pending lines of a batch by case code; `code` keeps those whose code contains it."""
    lines = Payment.objects.filter(batch=batch, status=PaymentStatus.PENDING)
    if code:
        lines = lines.filter(case__code__icontains=code)
    return (
        lines.select_related("case")
        .only("pk", "amount", "currency", "case__code")
        .order_by("case__code", "pk")
    )


def close_summary(*, batch: DisbursementBatch) -> dict:
    """What closing a batch settles: lines and amounts paid, failed and unclaimed, and how many
    failed or unclaimed lines could still be carried into next month."""
    totals = {total.status: total for total in with_status_totals([batch])[0].status_totals}
    carriable = (
        Payment.objects.filter(
            batch=batch,
            status__in=[PaymentStatus.FAILED, PaymentStatus.UNCLAIMED],
            carry_forward=False,
            carried_to__isnull=True,
        )
        .order_by()
        .aggregate(count=Count("pk"), total=Sum("amount"))
    )
    return {
        "totals": [
            totals.get(status) or StatusTotal(status, label, 0, ZERO)
            for status, label in PaymentStatus.choices
            if status in (PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.UNCLAIMED)
        ],
        "pending": totals[PaymentStatus.PENDING].count if PaymentStatus.PENDING in totals else 0,
        "carriable_count": carriable["count"],
        "carriable_total": carriable["total"] or ZERO,
    }


# How many case codes of each kind of change the approval page lists (it gives the count of all).
CHANGES_LISTED = 50

# A batch's stipend lines against the previous batch's, plan by plan, in PostgreSQL: only the
# differences leave the database, and of each kind only the first CHANGES_LISTED by case code
# with the count of all (a month in which every line is new names fifty, not 100,000).
BATCH_CHANGES_SQL = """
    WITH now AS (
        SELECT plan_id, case_id, amount FROM payments_payment
        WHERE batch_id = %(batch)s AND plan_id IS NOT NULL AND carried_from_id IS NULL
          AND status <> %(cancelled)s
    ), before AS (
        SELECT plan_id, case_id, amount FROM payments_payment
        WHERE batch_id = %(previous)s AND plan_id IS NOT NULL AND carried_from_id IS NULL
          AND status <> %(cancelled)s
    ), difference AS (
        SELECT CASE WHEN before.plan_id IS NULL THEN 'new'
                    WHEN now.plan_id IS NULL THEN 'ended' ELSE 'changed' END AS kind,
               COALESCE(now.case_id, before.case_id) AS case_id,
               before.amount AS before, now.amount AS after
        FROM now FULL JOIN before ON before.plan_id = now.plan_id
        WHERE now.plan_id IS NULL OR before.plan_id IS NULL OR now.amount <> before.amount
        UNION ALL
        -- Paid somewhere else: lines (carried ones too) whose plan's payout someone set since
        -- an approver last saw this currency's payouts (payouts_checked_at); the few such
        -- plans by their index.
        SELECT 'payout', line.case_id, NULL, NULL
        FROM payments_stipendplan AS plan
        JOIN payments_payment AS line
          ON line.plan_id = plan.id AND line.batch_id = %(batch)s
         AND line.status <> %(cancelled)s
        WHERE plan.payout_set_at >= COALESCE(%(payout_since)s, '-infinity'::timestamptz)
        UNION ALL
        SELECT 'carried', case_id, NULL, amount FROM payments_payment
        WHERE batch_id = %(batch)s AND carried_from_id IS NOT NULL AND status <> %(cancelled)s
    ), ranked AS (
        SELECT difference.kind, person.code, difference.before, difference.after,
               row_number() OVER (PARTITION BY difference.kind
                                  ORDER BY person.code, difference.before, difference.after)
                   AS position,
               count(*) OVER (PARTITION BY difference.kind) AS total
        FROM difference JOIN cases_case AS person ON person.id = difference.case_id
    )
    SELECT kind, code, before, after, total FROM ranked
    WHERE position <= %(listed)s
    ORDER BY kind, position
"""


@dataclass
class BatchChanges:
    """What changed since the previous month's batch of the same currency: the first
    CHANGES_LISTED case codes of each kind, by code, and how many there are of each."""

    previous: DisbursementBatch | None
    new_plans: list[str] = field(default_factory=list)
    ended_plans: list[str] = field(default_factory=list)
    changed: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    payout: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def new_count(self) -> int:
        return self.counts.get("new", 0)

    @property
    def ended_count(self) -> int:
        return self.counts.get("ended", 0)

    @property
    def changed_count(self) -> int:
        return self.counts.get("changed", 0)

    @property
    def carried_count(self) -> int:
        return self.counts.get("carried", 0)

    @property
    def payout_count(self) -> int:
        return self.counts.get("payout", 0)


def batch_changes(*, batch: DisbursementBatch) -> BatchChanges:
    """New plans, plans no longer paid, changed amounts, payouts set elsewhere and carried lines
    of `batch` against
    the latest earlier batch of its currency that was not rejected (case codes only; two
    queries whatever the size)."""
    previous = (
        DisbursementBatch.objects.filter(currency=batch.currency, period__lt=batch.period)
        .exclude(status=BatchStatus.REJECTED)
        .order_by("-period")
        .first()
    )
    changes = BatchChanges(previous=previous)
    with connection.cursor() as cursor:
        cursor.execute(
            BATCH_CHANGES_SQL,
            {
                "batch": batch.pk,
                "previous": previous.pk if previous is not None else None,
                "payout_since": payouts_checked_at(batch=batch),
                "cancelled": PaymentStatus.CANCELLED,
                "listed": CHANGES_LISTED,
            },
        )
        rows = cursor.fetchall()
    listed = {
        "new": changes.new_plans,
        "ended": changes.ended_plans,
        "carried": changes.carried,
        "payout": changes.payout,
    }
    for kind, code, before, after, total in rows:
        changes.counts[kind] = total
        if kind == "changed":
            changes.changed.append((code, before, after))
        else:
            listed[kind].append(code)
    return changes


def payouts_checked_at(*, batch: DisbursementBatch) -> datetime.datetime | None:
    """When an approver last saw this currency's payouts: the approval of the latest earlier
    batch (None if none was ever approved). A payout set since then is "paid somewhere else"
    on `batch`'s approval page, and its setter may not approve `batch`."""
    return (
        DisbursementBatch.objects.filter(
            currency=batch.currency, period__lt=batch.period, approved_at__isnull=False
        )
        .exclude(status=BatchStatus.REJECTED)
        .order_by("-period")
        .values_list("approved_at", flat=True)
        .first()
    )


def payouts_seen(*, batch: DisbursementBatch) -> str:
    """What the approval page shows of where `batch`'s lines are paid, as a token: the latest
    time a payout of one of its lines was set since an approver last saw them
    (payouts_checked_at), or "" if none was. The page sends it back with Approve; if it no
    longer matches, a wallet changed while the approver was reading and they must look again.
    Finds the few plans set since by the index on payout_set_at."""
    lines = Payment.objects.filter(batch=batch).exclude(status=PaymentStatus.CANCELLED)
    plans = StipendPlan.objects.filter(payout_set_at__isnull=False, pk__in=lines.values("plan_id"))
    since = payouts_checked_at(batch=batch)
    if since is not None:
        plans = plans.filter(payout_set_at__gte=since)
    latest = plans.aggregate(latest=Max("payout_set_at"))["latest"]
    return latest.isoformat() if latest is not None else ""


def payouts_set_by(*, batch: DisbursementBatch, user) -> int:
    """How many lines of `batch` `user` set the payout of (method, wallet or account) since
    an approver last saw them (payouts_checked_at): that person may not approve it (two
    people between a wallet and the money)."""
    lines = Payment.objects.filter(
        batch=batch, plan__payout_set_by=user, plan__payout_set_at__isnull=False
    ).exclude(status=PaymentStatus.CANCELLED)
    since = payouts_checked_at(batch=batch)
    if since is not None:
        lines = lines.filter(plan__payout_set_at__gte=since)
    return lines.count()


PAYS_TO_ACCOUNT = ("mobile_money", "bank_transfer")


@dataclass(frozen=True)
class Payee:
    name: str
    method: str
    account: str


def payees_for(*, line_ids: list[int]) -> list[Payee]:
    """The payee of each line: name, payout method and, where the method needs one, the wallet
    or account the line was approved to be paid to (its own copy, not the plan's current one) —
    decrypted, in two queries. Only for a reader the caller has checked and logged
    (payments/rules.py through accounts.services.record_reveal)."""
    lines = {
        line.pk: line
        for line in Payment.objects.filter(pk__in=line_ids).only(
            "pk", "case_id", "payee_method", "payee_account"
        )
    }
    cases = {
        case.pk: case
        for case in Case.objects.filter(pk__in={line.case_id for line in lines.values()}).only(
            "pk", "real_name", "data_key"
        )
    }
    payees = []
    for line_id in line_ids:
        line = lines.get(line_id)
        case = cases.get(line.case_id) if line else None
        name = case.real_name if case else ""
        method = line.payee_method if line else ""
        account = line.payee_account if line and method in PAYS_TO_ACCOUNT else ""
        payees.append(
            Payee(
                name=_("(erased)") if isinstance(name, Erased) else str(name or ""),
                method=method,
                account=_("(erased)") if isinstance(account, Erased) else str(account or ""),
            )
        )
    return payees


def payee_lines(*, lines: list[Payment]) -> list[Payment]:
    """Attach `payee` to each line of a page (see payees_for)."""
    for line, payee in zip(lines, payees_for(line_ids=[line.pk for line in lines]), strict=True):
        line.payee = payee
    return lines


def cases_without_plan() -> QuerySet[Case]:
    """Verified cases that have never had a stipend plan: codes only."""
    return (
        Case.objects.filter(status="verified")
        .exclude(Exists(StipendPlan.objects.filter(case=OuterRef("pk"))))
        .only("pk", "code", "status")
        .order_by("code")
    )


def batch_ledger_balance(*, batch: DisbursementBatch) -> Decimal:
    return LedgerEntry.objects.filter(batch=batch).aggregate(total=Sum("amount"))["total"] or ZERO


@dataclass(frozen=True)
class ExportLine:
    case_pk: int
    case_code: str
    amount: Decimal
    currency: str
    status: str
    method: str
    reference: str
    line_pk: int = 0
    plan_pk: int | None = None

    @property
    def transfer_reference(self) -> str:
        return f"HVP-{self.line_pk}"


def _export_line_values(batch: DisbursementBatch):
    return (
        Payment.objects.filter(batch=batch)
        .exclude(status=PaymentStatus.CANCELLED)
        .order_by("case__code", "pk")
        .values_list(
            "case_id",
            "case__code",
            "amount",
            "currency",
            "status",
            "method",
            "reference",
            "pk",
            "plan_id",
        )
    )


def iter_export_lines(*, batch: DisbursementBatch, chunk_size: int = 2000) -> Iterator[ExportLine]:
    """The lines an export lists (every line not cancelled), as plain values (case codes, never
    a decrypted field), read from a server-side cursor a chunk at a time: a 98,000-line batch
    is never held whole in memory."""
    for row in _export_line_values(batch).iterator(chunk_size=chunk_size):
        yield ExportLine(*row)


def export_totals(*, batch: DisbursementBatch) -> tuple[int, Decimal]:
    """A batch's lines that are not cancelled: how many, and their total. What its run counted
    (the approval checks it again), and what an export lists, before it is written."""
    totals = (
        Payment.objects.filter(batch=batch)
        .exclude(status=PaymentStatus.CANCELLED)
        .aggregate(count=Count("pk"), total=Sum("amount"))
    )
    return totals["count"], totals["total"] or Decimal(0)


def cases_for_names(*, case_ids: list[int], reader) -> dict[int, Case]:
    """The cases of a payroll sheet whose names `reader` may see (their team's: cases/rules.py),
    with their (still encrypted) names and data keys, in one query. Nothing is decrypted here."""
    cases = (
        Case.objects.filter(pk__in=case_ids)
        .filter(visible_to(reader))
        .only("pk", "code", "real_name", "data_key")
    )
    return {case.pk: case for case in cases}


# --- one-off payments ---------------------------------------------------------------------------


def one_off_list(*, status: str = "") -> QuerySet[OneOffPayment]:
    one_offs = OneOffPayment.objects.select_related("case", "funding_source", "proposed_by")
    if status:
        one_offs = one_offs.filter(status=status)
    return one_offs.annotate(approval_count=Count("approvals")).order_by("-proposed_at", "-pk")


def one_off_detail(*, pk: int) -> OneOffPayment:
    return (
        OneOffPayment.objects.select_related(
            "case", "funding_source", "proposed_by", "rejected_by", "payment__recorded_by"
        )
        .prefetch_related(
            Prefetch(
                "approvals",
                queryset=OneOffApproval.objects.select_related("approver").order_by("at"),
            )
        )
        .get(pk=pk)
    )


def one_offs_awaiting_approval() -> QuerySet[OneOffPayment]:
    return one_off_list(status=OneOffStatus.PROPOSED).order_by("proposed_at", "pk")


def current_batches() -> list[DisbursementBatch]:
    return with_status_totals(batch_list(statuses=OPEN_BATCH_STATUSES))


# --- the dashboard ------------------------------------------------------------------------------


def batches_of_month(*, month: datetime.date) -> list[DisbursementBatch]:
    """The batches paying the month (rejected ones too), and any earlier batch still open;
    with their totals by line status, in two queries."""
    batches = DisbursementBatch.objects.filter(
        Q(period=month) | Q(period__lt=month, status__in=OPEN_BATCH_STATUSES)
    ).order_by("-period", "currency", "-prepared_at")
    return with_status_totals(batches)


def batches_awaiting_approval(*, user) -> QuerySet[DisbursementBatch]:
    """Draft batches whose run has finished, with lines, that this user may approve (never
    one they prepared)."""
    return (
        DisbursementBatch.objects.filter(
            status=BatchStatus.DRAFT, run_completed_at__isnull=False, line_count__gt=0
        )
        .exclude(prepared_by=user)
        .order_by("period", "currency")
    )


def one_offs_awaiting_approval_by(*, user) -> QuerySet[OneOffPayment]:
    """One-off payments awaiting approval that this user may still approve: not their own
    proposal, not one they have approved already. Case codes only."""
    approved_by_user = OneOffApproval.objects.filter(one_off=OuterRef("pk"), approver=user)
    return (
        OneOffPayment.objects.filter(status=OneOffStatus.PROPOSED)
        .exclude(proposed_by=user)
        .exclude(Exists(approved_by_user))
        .select_related("case")
        .only(
            "pk",
            "kind",
            "amount",
            "currency",
            "required_approvals",
            "proposed_at",
            "case",
            "case__code",
        )
        .annotate(approval_count=Count("approvals"))
        .order_by("proposed_at", "pk")
    )
