"""What every export of a batch shares: the access-log entry, the generic file name, cells a
spreadsheet can never run as formulas, and reading lines a chunk at a time."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from accounts.models import User
from audit.models import AccessLog
from audit.services import log_access
from payments import selectors
from payments.models import DisbursementBatch, PaymentMethod, PaymentStatus

EXPORT_PERMISSION = "payments.view_disbursementbatch"

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Lines read, decrypted and written per step (and per progress report).
CHUNK_LINES = 500
PDF_TYPE = "application/pdf"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def spreadsheet_safe(value: Any) -> Any:
    """Neutralise a text cell a spreadsheet would run as a formula (=, +, -, @ …)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def file_name(batch: DisbursementBatch, extension: str) -> str:
    """Generic: the month and currency, never anything about a person."""
    return f"batch-{batch.period:%Y-%m}-{batch.currency}.{extension}"


def chunks(lines: Iterable[selectors.ExportLine]) -> Iterator[list[selectors.ExportLine]]:
    iterator = iter(lines)
    while chunk := list(itertools.islice(iterator, CHUNK_LINES)):
        yield chunk


def advance(progress, count: int) -> None:
    if progress is not None:
        progress.advance(count)


def log_export(
    *, batch: DisbursementBatch, actor: User, request, export_format: str, lines: int, names: bool
) -> None:
    log_access(
        action=AccessLog.Action.EXPORT,
        actor=actor,
        request=request,
        target=batch,
        detail={
            "export": f"payments.batch_{export_format}",
            "period": f"{batch.period:%Y-%m}",
            "currency": batch.currency,
            "status": batch.status,
            "lines": lines,
            "names": names,
        },
    )


def method_label(method: str) -> str:
    return str(PaymentMethod(method).label) if method in PaymentMethod.values else ""


def status_label(status: str) -> str:
    return str(PaymentStatus(status).label) if status in PaymentStatus.values else status
