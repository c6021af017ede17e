"""What every export of a batch shares: the access-log entries (the export, and the reveal of
the cases it names), the generic file name, cells a spreadsheet can never run as formulas, and
reading lines a chunk at a time."""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Iterable, Iterator
from typing import Any

from accounts.models import User
from accounts.services import reveal_within_budget
from audit.models import AccessLog
from audit.services import log_access
from payments import selectors
from payments.models import DisbursementBatch, PaymentMethod, PaymentStatus

EXPORT_PERMISSION = "payments.view_disbursementbatch"

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Lines read, decrypted and written per step (and per progress report).
CHUNK_LINES = 500
# The cases an export names are logged in REVEAL entries of at most this many case codes each:
# the log lists every one, and a build never holds more than this many.
REVEAL_CASES_PER_ENTRY = 2000
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


class NamedCases:
    """The cases whose names an export wrote, for the access log and for the erasure, kept in a
    bounded way: REVEAL entries of at most REVEAL_CASES_PER_ENTRY case codes each, written as
    the file is, and the cases' ids (8 bytes each).

    The first entry is written as soon as the first chunk is added, before a caller that adds
    a chunk ahead of decrypting it writes a name: it is the one that counts in the reader's
    reveal budget, and past the budget the build stops there with the usual refusal. The
    later entries are the same record on the same day, already counted. The caller checks the
    permission (reveal_check) before the build starts."""

    def __init__(
        self,
        *,
        batch: DisbursementBatch,
        actor: User,
        via: str,
        field_name: str,
        request=None,
        case_ids: array | None = None,
    ) -> None:
        self.batch, self.actor, self.request = batch, actor, request
        self.via, self.field_name = via, field_name
        self.codes: list[str] = []
        self.case_ids = case_ids if case_ids is not None else array("q")
        self.entries = 0

    def add(self, lines: list[selectors.ExportLine]) -> None:
        for line in lines:
            self.codes.append(line.case_code)
            self.case_ids.append(line.case_pk)
            if len(self.codes) >= REVEAL_CASES_PER_ENTRY:
                self.flush()
        if self.entries == 0:
            self.flush()

    def flush(self) -> None:
        if not self.codes:
            return
        self.entries += 1
        codes = sorted(set(self.codes))
        detail = {"via": self.via, "names": len(codes), "cases": codes, "part": self.entries}
        if self.entries == 1:
            reveal_within_budget(
                actor=self.actor,
                obj=self.batch,
                field_name=self.field_name,
                request=self.request,
                detail=detail,
            )
        else:
            log_access(
                action=AccessLog.Action.REVEAL,
                actor=self.actor,
                request=self.request,
                target=self.batch,
                field=self.field_name,
                detail=detail,
            )
        self.codes = []
