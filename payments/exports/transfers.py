"""The transfer lists of a batch (CSV and XLSX): case codes, amounts and references; names,
payout methods and wallets only for the officer paying the batch out, during the payout."""

from __future__ import annotations

import csv
import io
from array import array
from collections.abc import Iterator
from typing import Any, BinaryIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from accounts.models import User
from accounts.roles import require_permission
from accounts.services import reveal_check
from payments import selectors
from payments.exports.common import (
    EXPORT_PERMISSION,
    NamedCases,
    advance,
    chunks,
    log_export,
    method_label,
    spreadsheet_safe,
    status_label,
)
from payments.models import DisbursementBatch
from payments.money import MINOR_UNITS, Currency, quantum
from payments.rules import PAYOUT_PERMISSION
from protection.keys import Erased, decrypt_text


def _transfer_rows(
    lines: list[selectors.ExportLine], payees: list[selectors.Payee] | None = None
) -> list[list[Any]]:
    return [
        [
            line.transfer_reference,
            line.case_code,
            # In the currency's minor unit: "100000" kyat, "1000.00" baht.
            line.amount.quantize(quantum(line.currency)),
            line.currency,
            method_label(line.method),
            # A mobile money or bank reference leads to the person's wallet: encrypted under the
            # case's key, and printed only on a sheet that also shows whom each line pays.
            _reference(line.reference) if payees is not None else "",
            status_label(line.status),
            *(
                [payees[index].name, method_label(payees[index].method), payees[index].account]
                if payees is not None
                else []
            ),
        ]
        for index, line in enumerate(lines)
    ]


def _reference(stored: str | None) -> str:
    if not stored:
        return ""
    reference = decrypt_text(stored)
    return "" if isinstance(reference, Erased) else reference


def _transfer_header(payees: bool = False) -> list[str]:
    return [
        _("transfer reference"),
        _("case code"),
        _("amount"),
        _("currency"),
        _("method"),
        _("reference"),
        _("status"),
        *([_("name"), _("payout method"), _("wallet or account")] if payees else []),
    ]


def _transferchunks(
    batch: DisbursementBatch, *, progress, payees: NamedCases | None = None
) -> Iterator[list[list[Any]]]:
    """The rows of a transfer list, a chunk at a time. With `payees`, each chunk's cases are
    logged as revealed (within the reader's budget) before its names and wallets are
    decrypted, and their ids gathered for the erasure."""
    for chunk in chunks(selectors.iter_export_lines(batch=batch)):
        shown = None
        if payees is not None:
            payees.add(chunk)
            shown = selectors.payees_for(line_ids=[line.line_pk for line in chunk])
        yield _transfer_rows(chunk, shown)
        advance(progress, len(chunk))


def _payees(batch: DisbursementBatch, actor: User, request, named: array | None) -> NamedCases:
    """The names and wallets of the lines, for the officer paying the batch out, during the
    payout only (payments/rules.py): checked before anything is written (PermissionDenied,
    logged, for anyone else), then logged as revealed a chunk at a time."""
    reveal_check(
        actor=actor, obj=batch, field_name="payees", request=request, permission=PAYOUT_PERMISSION
    )
    return NamedCases(
        batch=batch,
        actor=actor,
        request=request,
        via="payments.transfer_list",
        field_name="payees",
        case_ids=named,
    )


# --- CSV and XLSX: for transfers; names and wallets only for the payout ----------------------


def write_batch_csv(
    output: BinaryIO,
    *,
    batch: DisbursementBatch,
    actor: User,
    request=None,
    with_payees: bool = False,
    progress=None,
    named: array | None = None,
) -> int:
    """The transfer list; `with_payees` adds name, method and wallet or account, for the
    officer paying the batch out only (PermissionDenied, logged, for anyone else), and the ids
    of their cases to `named`. Returns the number of lines."""
    require_permission(actor, EXPORT_PERMISSION)
    payees = _payees(batch, actor, request, named) if with_payees else None
    count, _total = selectors.export_totals(batch=batch)
    if progress is not None:
        progress.total(count)
    text = io.TextIOWrapper(output, encoding="utf-8", newline="", write_through=True)
    try:
        # A byte-order mark, so spreadsheets read the (possibly Burmese) labels as UTF-8.
        text.write("\ufeff")
        writer = csv.writer(text)
        writer.writerow([spreadsheet_safe(cell) for cell in _transfer_header(with_payees)])
        for rows in _transferchunks(batch, progress=progress, payees=payees):
            writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
        text.flush()
    finally:
        # The output is the caller's: a refusal half-way leaves it open, for them to discard.
        text.detach()
    if payees is not None:
        payees.flush()
    log_export(
        batch=batch,
        actor=actor,
        request=request,
        export_format="csv",
        lines=count,
        names=with_payees,
    )
    return count


def _text_cell(sheet, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=spreadsheet_safe(value))
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula, whatever it starts with
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_batch_xlsx(
    output: BinaryIO,
    *,
    batch: DisbursementBatch,
    actor: User,
    request=None,
    with_payees: bool = False,
    progress=None,
    named: array | None = None,
) -> int:
    """The transfer list as a workbook: as write_batch_csv."""
    require_permission(actor, EXPORT_PERMISSION)
    payees = _payees(batch, actor, request, named) if with_payees else None
    count, _total = selectors.export_totals(batch=batch)
    if progress is not None:
        progress.total(count)
    places = MINOR_UNITS[Currency(batch.currency)]
    number_format = "#,##0" if places == 0 else "#,##0." + "0" * places
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=f"{batch.period:%Y-%m} {batch.currency}")
    sheet.append([_text_cell(sheet, label, bold=True) for label in _transfer_header(with_payees)])
    for rows in _transferchunks(batch, progress=progress, payees=payees):
        for row in rows:
            cells = [_text_cell(sheet, value) for value in row]
            cells[2] = WriteOnlyCell(sheet, value=row[2])  # the amount: a Decimal, as a number
            cells[2].number_format = number_format
            sheet.append(cells)
    workbook.save(output)
    if payees is not None:
        payees.flush()
    log_export(
        batch=batch,
        actor=actor,
        request=request,
        export_format="xlsx",
        lines=count,
        names=with_payees,
    )
    return count
