"""The exports of a batch: a payroll sheet (PDF, with a blank signature column for a cash
distribution) and transfer lists (CSV and XLSX). People appear by case code; names appear on
the payroll sheet only for a reader allowed to see identity, and on the transfer lists (with
wallets and accounts) only for the officer paying the batch out, during the payout; either
counts as a reveal. Every export is written to the access log, with the batch as its target.

They are built in the background (operations/exports.py: the kinds are registered below), a
chunk of lines at a time into a stream: the 98,000-line payroll sheet is drawn page by page on
a canvas, never as one table held in memory."""

from payments.exports.background import register_exports
from payments.exports.common import (
    CSV_TYPE,
    EXPORT_PERMISSION,
    PDF_TYPE,
    XLSX_TYPE,
    file_name,
    spreadsheet_safe,
)
from payments.exports.payroll import (
    escape,
    write_batch_pdf,
    write_payroll_pdf,
)
from payments.exports.transfers import write_batch_csv, write_batch_xlsx

__all__ = [
    "CSV_TYPE",
    "EXPORT_PERMISSION",
    "PDF_TYPE",
    "XLSX_TYPE",
    "escape",
    "file_name",
    "register_exports",
    "spreadsheet_safe",
    "write_batch_csv",
    "write_batch_pdf",
    "write_batch_xlsx",
    "write_payroll_pdf",
]
