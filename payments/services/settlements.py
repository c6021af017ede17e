"""A mobile-money provider's settlement file (CSV): read and matched to the lines of a batch by
their transfer reference (HVP-<line number>), shown to the finance officer, and only then
recorded. A file with an unknown reference, a wrong amount or a line twice is refused whole;
a line already recorded is left as it is (never recorded twice)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_context
from payments.models import (
    BatchStatus,
    DisbursementBatch,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from payments.services.common import PaymentError, guarded
from payments.services.payouts import _record, _start_payout

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ERRORS_SHOWN = 20
REFERENCE = re.compile(r"^HVP-(\d{1,12})$", re.IGNORECASE)

COLUMNS = {
    "reference": ("reference", "line reference", "our reference", "merchant reference"),
    "transaction": ("transaction", "transaction id", "provider reference", "receipt"),
    "status": ("status", "result"),
    "amount": ("amount",),
}
OUTCOME_WORDS = {
    PaymentStatus.PAID: ("paid", "success", "successful", "completed", "settled"),
    PaymentStatus.FAILED: ("failed", "rejected", "returned", "error"),
    PaymentStatus.UNCLAIMED: ("unclaimed", "expired"),
}


@dataclass(frozen=True)
class SettlementRow:
    line_id: int
    case_code: str
    amount: Decimal
    currency: str
    outcome: str
    transaction: str


@dataclass
class SettlementPreview:
    """What recording the file would do: the rows to record and the lines left alone."""

    to_record: list[SettlementRow] = field(default_factory=list)
    already_recorded: list[SettlementRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOME_WORDS, 0)
        for row in self.to_record:
            counts[row.outcome] += 1
        return counts

    def total(self, outcome: str = PaymentStatus.PAID) -> Decimal:
        return sum((row.amount for row in self.to_record if row.outcome == outcome), Decimal(0))


def _outcome(word: str) -> str | None:
    word = word.strip().lower()
    return next((outcome for outcome, words in OUTCOME_WORDS.items() if word in words), None)


def _columns(header: list[str]) -> dict[str, int]:
    names = [name.strip().lower().lstrip("\ufeff") for name in header]
    found = {}
    for key, aliases in COLUMNS.items():
        for index, name in enumerate(names):
            if name in aliases:
                found[key] = index
                break
    missing = [key for key in ("reference", "transaction", "status") if key not in found]
    if missing:
        raise PaymentError(
            _("The settlement file needs the columns reference, transaction and status.")
        )
    return found


def _rows(content: bytes) -> tuple[dict[str, int], list[list[str]]]:
    if len(content) > MAX_FILE_BYTES:
        raise PaymentError(_("The settlement file is larger than 2 MB."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PaymentError(_("The settlement file must be a CSV file in UTF-8.")) from error
    if "\x00" in text:
        raise PaymentError(_("The settlement file must be a CSV file in UTF-8."))
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise PaymentError(_("The settlement file is not a readable CSV file.")) from error
    if len(rows) < 2:
        raise PaymentError(_("The settlement file has no rows."))
    if len(rows) > MAX_ROWS + 1:
        raise PaymentError(_("The settlement file has too many rows."))
    return _columns(rows[0]), rows[1:]


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def settlement_preview(*, batch: DisbursementBatch, content: bytes) -> SettlementPreview:
    """Read a settlement file against the lines of `batch`; PaymentError (with every problem
    found, up to twenty) if any row is wrong. Changes nothing."""
    if batch.status not in (BatchStatus.APPROVED, BatchStatus.DISBURSING):
        raise PaymentError(_("Payouts are recorded only on an approved batch."))
    columns, rows = _rows(content)
    parsed: list[tuple[int, int, str, str, str]] = []
    errors: list[str] = []
    for number, row in enumerate(rows, start=2):
        reference = _cell(row, columns["reference"])
        match = REFERENCE.match(reference)
        outcome = _outcome(_cell(row, columns["status"]))
        transaction = _cell(row, columns["transaction"])[:100]
        if match is None:
            errors.append(
                _("Row %(row)d: %(reference)s is not a reference of this batch.")
                % {"row": number, "reference": reference[:40] or "—"}
            )
        elif outcome is None:
            errors.append(
                _("Row %(row)d: the status must be paid, failed or unclaimed.") % {"row": number}
            )
        elif outcome == PaymentStatus.PAID and not transaction:
            errors.append(
                _("Row %(row)d: a paid row needs the provider's transaction.") % {"row": number}
            )
        else:
            parsed.append(
                (
                    number,
                    int(match.group(1)),
                    outcome,
                    transaction,
                    _cell(row, columns.get("amount")),
                )
            )
    lines = Payment.objects.filter(batch=batch, pk__in=[row[1] for row in parsed]).select_related(
        "case"
    )
    by_id = {line.pk: line for line in lines}
    preview, seen = SettlementPreview(), set()
    for number, line_id, outcome, transaction, amount in parsed:
        line = by_id.get(line_id)
        if line is None or line.status == PaymentStatus.CANCELLED:
            errors.append(
                _("Row %(row)d: HVP-%(line)d is not a reference of this batch.")
                % {"row": number, "line": line_id}
            )
            continue
        if line_id in seen:
            errors.append(
                _("Row %(row)d: HVP-%(line)d appears more than once.")
                % {"row": number, "line": line_id}
            )
            continue
        seen.add(line_id)
        if amount:
            try:
                matches = Decimal(amount.replace(",", "")) == line.amount
            except InvalidOperation:
                matches = False
            if not matches:
                errors.append(
                    _("Row %(row)d: the amount of HVP-%(line)d is not the line's amount.")
                    % {"row": number, "line": line_id}
                )
                continue
        row = SettlementRow(
            line_id, line.case.code, line.amount, line.currency, outcome, transaction
        )
        if line.status == PaymentStatus.PENDING:
            preview.to_record.append(row)
        else:
            preview.already_recorded.append(row)
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        if len(errors) > MAX_ERRORS_SHOWN:
            shown.append(_("… and %(count)d more.") % {"count": len(errors) - MAX_ERRORS_SHOWN})
        raise PaymentError(
            _("The settlement file was not recorded: %(errors)s") % {"errors": " ".join(shown)}
        )
    return preview


@guarded("payments.record_payout", "payment.settlement")
def settlement_record(
    *,
    batch: DisbursementBatch,
    actor: User,
    rows: list[tuple[int, str, str]],
    token: uuid.UUID,
) -> tuple[list[Payment], int]:
    """Record a previewed settlement file: (line, outcome, transaction) rows, as mobile money.
    Lines recorded since the preview are left alone; the same confirmation sent twice records
    nothing more. Returns the lines recorded by this confirmation and how many were skipped."""
    batch = DisbursementBatch.objects.select_for_update().get(pk=batch.pk)
    already = list(Payment.objects.filter(batch=batch, record_token=token).order_by("pk"))
    if already:
        return already, 0
    if batch.status not in (BatchStatus.APPROVED, BatchStatus.DISBURSING):
        raise PaymentError(_("Payouts are recorded only on an approved batch."))
    wanted = {int(line_id): (outcome, transaction) for line_id, outcome, transaction in rows}
    locked = list(
        Payment.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk__in=list(wanted), batch=batch)
        .order_by("pk")
    )
    pending = [line for line in locked if line.status == PaymentStatus.PENDING]
    if not pending:
        return [], len(wanted)
    _start_payout(batch, actor)
    with audit_context(actor=actor, action="payment.settlement"):
        recorded = [
            _record(
                line,
                actor=actor,
                outcome=wanted[line.pk][0],
                method=PaymentMethod.MOBILE_MONEY,
                reference=wanted[line.pk][1],
                acknowledged=False,
                token=token,
            )
            for line in pending
        ]
    return recorded, len(wanted) - len(recorded)
