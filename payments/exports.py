"""The exports of a batch: a payroll sheet (PDF, with a blank signature column for a cash
distribution) and transfer lists (CSV and XLSX). People appear by case code; names appear on
the payroll sheet only for a reader allowed to see identity, and on the transfer lists (with
wallets and accounts) only for the officer paying the batch out, during the payout; either
counts as a reveal. Every export is written to the access log, with the batch as its target.

They are built in the background (operations/exports.py: the kinds are registered below), a
chunk of lines at a time into a stream: the 98,000-line payroll sheet is drawn page by page on
a canvas, never as one table held in memory."""

from __future__ import annotations

import csv
import functools
import importlib.util
import io
import itertools
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFName, PDFStream
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import bidiShapedText
from reportlab.platypus import Paragraph

from accounts.models import User
from accounts.roles import require_permission
from accounts.services import may_reveal, record_reveal
from audit.models import AccessLog
from audit.services import log_access
from operations import exports as background
from payments import selectors
from payments.models import DisbursementBatch, PaymentMethod, PaymentStatus
from payments.money import MINOR_UNITS, Currency, quantum
from payments.rules import PAYOUT_PERMISSION, SEE_PAYEES
from payments.templatetags.payments_money import format_amount, format_money
from protection.keys import Erased
from protection.masks import MASK

EXPORT_PERMISSION = "payments.view_disbursementbatch"

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# ReportLab compresses page streams by default; tests switch it off to read the text.
COMPRESS_PDF = True

# Lines read, decrypted and written per step (and per progress report).
CHUNK_LINES = 500

# A TrueType font with wide script coverage when the system has one; Helvetica otherwise.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)

# Burmese needs a font with Myanmar script and text shaping (HarfBuzz, through uharfbuzz) to put
# its vowel signs and stacked consonants in place. Debian: fonts-sil-padauk (`make` installs it).
MYANMAR_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/padauk/Padauk-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansMyanmar-Regular.ttf",
)

# Compressed page streams stored as binary, not also ASCII85-encoded: a quarter smaller and, for
# a 98,000-line sheet, seconds faster (pure-Python encoding). Only payments draws PDFs.
rl_config.useA85 = 0

PDF_TYPE = "application/pdf"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Export:
    content: bytes
    content_type: str
    filename: str


def spreadsheet_safe(value: Any) -> Any:
    """Neutralise a text cell a spreadsheet would run as a formula (=, +, -, @ …)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def file_name(batch: DisbursementBatch, extension: str) -> str:
    """Generic: the month and currency, never anything about a person."""
    return f"batch-{batch.period:%Y-%m}-{batch.currency}.{extension}"


def _chunks(lines: Iterable[selectors.ExportLine]) -> Iterator[list[selectors.ExportLine]]:
    iterator = iter(lines)
    while chunk := list(itertools.islice(iterator, CHUNK_LINES)):
        yield chunk


def _advance(progress, count: int) -> None:
    if progress is not None:
        progress.advance(count)


def _log_export(
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


def _method_label(method: str) -> str:
    return str(PaymentMethod(method).label) if method in PaymentMethod.values else ""


def _status_label(status: str) -> str:
    return str(PaymentStatus(status).label) if status in PaymentStatus.values else status


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
            _method_label(line.method),
            line.reference,
            _status_label(line.status),
            *(
                [payees[index].name, _method_label(payees[index].method), payees[index].account]
                if payees is not None
                else []
            ),
        ]
        for index, line in enumerate(lines)
    ]


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


def _record_payee_reveal(batch: DisbursementBatch, actor: User, request) -> None:
    """The names and wallets of the lines, for the officer paying the batch out, during the
    payout only (payments/rules.py): a reveal, logged and counted by record_reveal, which
    raises PermissionDenied for anyone else or past the budget."""
    record_reveal(
        actor=actor,
        obj=batch,
        field_name="payees",
        request=request,
        permission=PAYOUT_PERMISSION,
        # Which people: the access log lists the cases whose names and wallets were shown.
        detail={"cases": selectors.export_case_codes(batch=batch)},
    )


def _transfer_chunks(
    batch: DisbursementBatch, *, with_payees: bool, progress
) -> Iterator[list[list[Any]]]:
    """The rows of a transfer list, a chunk at a time, payees decrypted per chunk."""
    for chunk in _chunks(selectors.iter_export_lines(batch=batch)):
        payees = (
            selectors.payees_for(pairs=[(line.plan_pk, line.case_pk) for line in chunk])
            if with_payees
            else None
        )
        yield _transfer_rows(chunk, payees)
        _advance(progress, len(chunk))


# --- CSV and XLSX: for transfers; names and wallets only for the payout ----------------------


def write_batch_csv(
    output: BinaryIO,
    *,
    batch: DisbursementBatch,
    actor: User,
    request=None,
    with_payees: bool = False,
    progress=None,
) -> int:
    """The transfer list; `with_payees` adds name, method and wallet or account, for the
    officer paying the batch out only (PermissionDenied, logged, for anyone else). Returns the
    number of lines."""
    require_permission(actor, EXPORT_PERMISSION)
    if with_payees:
        _record_payee_reveal(batch, actor, request)
    count, _total = selectors.export_totals(batch=batch)
    if progress is not None:
        progress.total(count)
    text = io.TextIOWrapper(output, encoding="utf-8", newline="", write_through=True)
    # A byte-order mark, so spreadsheets read the (possibly Burmese) labels as UTF-8.
    text.write("\ufeff")
    writer = csv.writer(text)
    writer.writerow([spreadsheet_safe(cell) for cell in _transfer_header(with_payees)])
    for rows in _transfer_chunks(batch, with_payees=with_payees, progress=progress):
        writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    text.flush()
    text.detach()
    _log_export(
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
) -> int:
    require_permission(actor, EXPORT_PERMISSION)
    if with_payees:
        _record_payee_reveal(batch, actor, request)
    count, _total = selectors.export_totals(batch=batch)
    if progress is not None:
        progress.total(count)
    places = MINOR_UNITS[Currency(batch.currency)]
    number_format = "#,##0" if places == 0 else "#,##0." + "0" * places
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=f"{batch.period:%Y-%m} {batch.currency}")
    sheet.append([_text_cell(sheet, label, bold=True) for label in _transfer_header(with_payees)])
    for rows in _transfer_chunks(batch, with_payees=with_payees, progress=progress):
        for row in rows:
            cells = [_text_cell(sheet, value) for value in row]
            cells[2] = WriteOnlyCell(sheet, value=row[2])  # the amount: a Decimal, as a number
            cells[2].number_format = number_format
            sheet.append(cells)
    workbook.save(output)
    _log_export(
        batch=batch,
        actor=actor,
        request=request,
        export_format="xlsx",
        lines=count,
        names=with_payees,
    )
    return count


def batch_csv(
    *, batch: DisbursementBatch, actor: User, request=None, with_payees: bool = False
) -> Export:
    """The transfer list in memory (for a small batch and for tests; the pages build it in the
    background)."""
    buffer = io.BytesIO()
    write_batch_csv(buffer, batch=batch, actor=actor, request=request, with_payees=with_payees)
    return Export(buffer.getvalue(), CSV_TYPE, file_name(batch, "csv"))


def batch_xlsx(
    *, batch: DisbursementBatch, actor: User, request=None, with_payees: bool = False
) -> Export:
    buffer = io.BytesIO()
    write_batch_xlsx(buffer, batch=batch, actor=actor, request=request, with_payees=with_payees)
    return Export(buffer.getvalue(), XLSX_TYPE, file_name(batch, "xlsx"))


# --- the payroll sheet (PDF) ------------------------------------------------------------------


@functools.cache
def _pdf_font() -> str:
    for path in FONT_CANDIDATES:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont("HavenSans", path))
            return "HavenSans"
    return "Helvetica"


@functools.cache
def _myanmar_pdf_font() -> str | None:
    """The registered Myanmar font, or None when the font or the shaping library is missing."""
    if importlib.util.find_spec("uharfbuzz") is None:
        return None
    for path in MYANMAR_FONT_CANDIDATES:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont("HavenMyanmar", path, shapable=True))
            return "HavenMyanmar"
    return None


def escape(text: str) -> str:
    """Text for a ReportLab Paragraph, which reads a little XML-like markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _names_of(lines: list[selectors.ExportLine], reader: User) -> dict[int, str]:
    """Decrypt the name of each case on the sheet whose team `reader` is on; the others are
    masked (need-to-know: cases/rules.py)."""
    case_ids = sorted({line.case_pk for line in lines})
    cases = selectors.cases_for_names(case_ids=case_ids, reader=reader)
    names = dict.fromkeys(case_ids, MASK)
    for case_pk, case in cases.items():
        name = case.real_name
        names[case_pk] = _("(erased)") if isinstance(name, Erased) else (name or "")
    return names


PAGE_SIZE = landscape(A4)
MARGIN_LEFT = MARGIN_RIGHT = MARGIN_TOP = 15 * mm
MARGIN_BOTTOM = 18 * mm
HEADER_HEIGHT = 8 * mm
ROW_HEIGHT = 11 * mm
FONT_SIZE = 10
WIDTHS_WITH_NAMES = (14 * mm, 38 * mm, 70 * mm, 35 * mm, 22 * mm, 88 * mm)
WIDTHS_CODES_ONLY = (14 * mm, 45 * mm, 40 * mm, 25 * mm, 143 * mm)


def compress_last_page(canvas: Canvas) -> None:
    """Compress the page just finished now rather than when the document is saved: ReportLab
    keeps every page's drawing operators until then, which for 98,000 lines is about ten
    times the compressed size. Uses ReportLab's page and stream objects as its own
    PDFPage.check_format would, with the Flate filter already applied."""
    if not canvas._doc.compression:
        return
    page = canvas._doc.Pages.pages[-1]
    if not page.stream or page.Contents:
        return
    content = page.stream.encode("utf-8") if isinstance(page.stream, str) else page.stream
    contents = PDFStream(content=zlib.compress(content), filters=[])
    contents.dictionary["Filter"] = PDFArray([PDFName("FlateDecode")])
    page.Contents, page.stream = contents, None


class _PayrollCanvas:
    """Draws the sheet's table row by row, starting a page (with the header row repeated and
    the footer) whenever the next row would not fit. Each page's text goes into one text
    object and its rules into one grid, drawn when the page is done: a row costs a few text
    operators, which is what lets 98,000 lines be drawn in about a minute."""

    def __init__(
        self, canvas: Canvas, *, font: str, shaping: bool, label: str, names: bool
    ) -> None:
        self.canvas, self.font, self.shaping, self.label = canvas, font, shaping, label
        self.widths = WIDTHS_WITH_NAMES if names else WIDTHS_CODES_ONLY
        self.amount_column = 3 if names else 2
        self.name_column = 2 if names else None
        self.edges = [MARGIN_LEFT]
        for width in self.widths:
            self.edges.append(self.edges[-1] + width)
        self.y = PAGE_SIZE[1] - MARGIN_TOP
        self.header: list[str] = []
        self.text = None
        self.rules: list[float] = []

    def _shaped(self, value: str) -> tuple[str, float]:
        if self.shaping:
            return bidiShapedText(value, fontName=self.font, fontSize=FONT_SIZE, shaping=True)
        return value, pdfmetrics.stringWidth(value, self.font, FONT_SIZE)

    def _fit(self, value: str, width: float) -> str:
        """A value too wide for its cell, cut with an ellipsis rather than drawn over the next."""
        limit = width - 6
        if pdfmetrics.stringWidth(value, self.font, FONT_SIZE) <= limit:
            return value
        while value and pdfmetrics.stringWidth(value + "…", self.font, FONT_SIZE) > limit:
            value = value[:-1]
        return value + "…"

    def _row(self, cells: list[str], *, height: float) -> None:
        if self.text is None:
            self.text = self.canvas.beginText()
            self.text.setFont(self.font, FONT_SIZE)
            self.rules = [self.y]
        baseline = self.y - height / 2 - FONT_SIZE * 0.35
        for index, value in enumerate(cells):
            if not value:
                continue
            if index == self.name_column:
                value = self._fit(value, self.widths[index])
            if index == self.amount_column:
                value, width = self._shaped(value)
                x = self.edges[index + 1] - 3 - width
            else:
                if self.shaping:
                    value, _width = self._shaped(value)
                x = self.edges[index] + 3
            self.text.setTextOrigin(x, baseline)
            self.text.textOut(value)
        self.y -= height
        self.rules.append(self.y)

    def table_row(self, cells: list[str]) -> None:
        if self.y - ROW_HEIGHT < MARGIN_BOTTOM:
            self.new_page()
        self._row(cells, height=ROW_HEIGHT)

    def total_row(self, cells: list[str]) -> None:
        if self.y - ROW_HEIGHT < MARGIN_BOTTOM:
            self.new_page()
        top = self.y
        self._row(cells, height=ROW_HEIGHT)
        self.canvas.setLineWidth(1.5)
        self.canvas.line(self.edges[0], top, self.edges[-1], top)

    def header_row(self, cells: list[str]) -> None:
        self.header = cells
        self.canvas.setFillColor(colors.lightgrey)
        self.canvas.rect(
            self.edges[0],
            self.y - HEADER_HEIGHT,
            self.edges[-1] - self.edges[0],
            HEADER_HEIGHT,
            stroke=0,
            fill=1,
        )
        self.canvas.setFillColor(colors.black)
        self._row(cells, height=HEADER_HEIGHT)

    def finish_page(self) -> None:
        """The page's text, its grid (the line under the header a little heavier) and footer."""
        canvas = self.canvas
        canvas.drawText(self.text)
        canvas.setLineWidth(0.5)
        canvas.grid(self.edges, self.rules)
        canvas.setLineWidth(1)
        canvas.line(self.edges[0], self.rules[1], self.edges[-1], self.rules[1])
        canvas.setFont(self.font, 8)
        footer = _("Haven payroll sheet %(batch)s, page %(page)d") % {
            "batch": self.label,
            "page": canvas.getPageNumber(),
        }
        canvas.drawString(MARGIN_LEFT, 8 * mm, footer, shaping=self.shaping)
        self.text = None

    def new_page(self) -> None:
        self.finish_page()
        self.canvas.showPage()
        compress_last_page(self.canvas)
        self.y = PAGE_SIZE[1] - MARGIN_TOP
        self.header_row(self.header)


def write_payroll_pdf(
    output: BinaryIO,
    *,
    batch: DisbursementBatch,
    lines: Iterable[selectors.ExportLine],
    count: int,
    total: Decimal,
    names_of: Callable[[list[selectors.ExportLine]], dict[int, str]] | None,
    prepared_for: str,
    compress: bool | None = None,
    progress=None,
) -> list[selectors.ExportLine]:
    """The sheet itself: a table of case code, (name,) amount, currency and a blank signature
    column, with the batch's total, drawn as the lines come. `names_of` (None for a reader who
    may not see names) decrypts the names of a chunk of lines. Returns the lines whose names
    were printed.

    In Burmese when the reader's language is Burmese; in English, rather than in boxes where
    letters should be, when this server lacks the Myanmar font or the shaping library."""
    compress = COMPRESS_PDF if compress is None else compress
    shaping = translation.get_language() == "my"
    if shaping and _myanmar_pdf_font() is None:
        logger.warning("payments.payroll_pdf_in_english", extra={"reason": "no Myanmar font"})
        with translation.override("en"):
            return write_payroll_pdf(
                output,
                batch=batch,
                lines=lines,
                count=count,
                total=total,
                names_of=names_of,
                prepared_for=prepared_for,
                compress=compress,
                progress=progress,
            )
    font = _myanmar_pdf_font() if shaping else _pdf_font()
    label = batch.label
    canvas = Canvas(output, pagesize=PAGE_SIZE, pageCompression=1 if compress else 0)
    canvas.setTitle(_("Payroll sheet %(batch)s") % {"batch": label})
    canvas.setAuthor("Haven")
    canvas.setCreator("Haven")
    sheet = _PayrollCanvas(
        canvas, font=font, shaping=shaping, label=label, names=names_of is not None
    )

    styles = getSampleStyleSheet()
    for style in (styles["Title"], styles["Normal"]):
        style.fontName = font
        style.shaping = int(shaping)
    intro = [
        Paragraph(escape(_("Payroll sheet %(batch)s") % {"batch": label}), styles["Title"]),
        Paragraph(
            escape(
                _(
                    "Batch status: %(status)s. Lines: %(lines)d. Total: %(total)s. "
                    "Printed %(when)s for %(user)s."
                )
                % {
                    "status": batch.get_status_display(),
                    "lines": count,
                    "total": format_money(total, batch.currency),
                    "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
                    "user": prepared_for,
                }
            ),
            styles["Normal"],
        ),
    ]
    if names_of is not None:
        intro.append(
            Paragraph(
                escape(
                    _(
                        "This sheet contains names. Keep it locked away, never photograph it, "
                        "and destroy it once the distribution is recorded."
                    )
                ),
                styles["Normal"],
            )
        )
    width = PAGE_SIZE[0] - MARGIN_LEFT - MARGIN_RIGHT
    for paragraph in intro:
        _width, height = paragraph.wrap(width, sheet.y - MARGIN_BOTTOM)
        paragraph.drawOn(canvas, MARGIN_LEFT, sheet.y - height)
        sheet.y -= height + 3 * mm
    sheet.y -= 3 * mm

    header = [_("No."), _("Case code")]
    if names_of is not None:
        header.append(_("Name"))
    header += [_("Amount"), _("Currency"), _("Signature")]
    sheet.header_row(header)

    named: list[selectors.ExportLine] = []
    number = 0
    for chunk in _chunks(lines):
        names = names_of(chunk) if names_of is not None else None
        for line in chunk:
            number += 1
            row = [str(number), line.case_code]
            if names is not None:
                name = names.get(line.case_pk, "")
                row.append(name)
                if name != MASK:
                    named.append(line)
            row += [format_amount(line.amount, line.currency), line.currency, ""]
            sheet.table_row(row)
        _advance(progress, len(chunk))
    total_row = ["", _("Total")]
    if names_of is not None:
        total_row.append("")
    total_row += [format_amount(total, batch.currency), batch.currency, ""]
    sheet.total_row(total_row)
    sheet.finish_page()
    canvas.showPage()
    compress_last_page(canvas)
    canvas.save()
    return named


def payroll_pdf_bytes(
    *,
    batch: DisbursementBatch,
    lines: list[selectors.ExportLine],
    names: dict[int, str] | None,
    prepared_for: str,
    compress: bool | None = None,
) -> bytes:
    """The sheet of lines already read, in memory (tests)."""
    buffer = io.BytesIO()
    write_payroll_pdf(
        buffer,
        batch=batch,
        lines=lines,
        count=len(lines),
        total=sum((line.amount for line in lines), start=Decimal(0)),
        names_of=None if names is None else (lambda _chunk: names),
        prepared_for=prepared_for,
        compress=compress,
    )
    return buffer.getvalue()


def write_batch_pdf(
    output: BinaryIO,
    *,
    batch: DisbursementBatch,
    actor: User,
    request=None,
    compress: bool | None = None,
    progress=None,
) -> list[int]:
    """The payroll sheet: codes only, or with names for a reader who may reveal identity —
    then one REVEAL entry lists the cases whose names were printed. Returns their ids."""
    require_permission(actor, EXPORT_PERMISSION)
    count, total = selectors.export_totals(batch=batch)
    if progress is not None:
        progress.total(count)
    with_names = may_reveal(actor)
    named = write_payroll_pdf(
        output,
        batch=batch,
        lines=selectors.iter_export_lines(batch=batch),
        count=count,
        total=total,
        names_of=(lambda chunk: _names_of(chunk, actor)) if with_names else None,
        prepared_for=actor.get_username(),
        compress=compress,
        progress=progress,
    )
    if with_names and count:
        log_access(
            action=AccessLog.Action.REVEAL,
            actor=actor,
            request=request,
            target=batch,
            field="real_name",
            detail={
                "via": "payments.batch_pdf",
                "names": len({line.case_pk for line in named}),
                "cases": sorted({line.case_code for line in named}),
            },
        )
    _log_export(
        batch=batch,
        actor=actor,
        request=request,
        export_format="pdf",
        lines=count,
        names=with_names,
    )
    return sorted({line.case_pk for line in named})


def batch_pdf(
    *, batch: DisbursementBatch, actor: User, request=None, compress: bool | None = None
) -> Export:
    """The payroll sheet in memory (for a small batch and for tests)."""
    buffer = io.BytesIO()
    write_batch_pdf(buffer, batch=batch, actor=actor, request=request, compress=compress)
    return Export(buffer.getvalue(), PDF_TYPE, file_name(batch, "pdf"))


# --- built in the background -------------------------------------------------------------------


def _batch_of(arguments: dict) -> DisbursementBatch:
    batch = DisbursementBatch.objects.filter(pk=arguments["batch"]).first()
    if batch is None:
        raise background.ExportError(_("This batch does not exist."))
    return batch


def _check_batch(actor: User, arguments: dict) -> None:
    _batch_of(arguments)


def _check_transfers(actor: User, arguments: dict, request=None) -> None:
    """Names and wallets only for the officer paying the batch out, during the payout (asked
    again at the build and at every download: a batch closed meanwhile keeps its list shut).
    A refusal is logged as record_reveal logs one."""
    batch = _batch_of(arguments)
    if not arguments["payees"]:
        return
    require_permission(actor, PAYOUT_PERMISSION)
    if not actor.has_perm(SEE_PAYEES, batch):
        log_access(
            action=AccessLog.Action.DENIED,
            actor=actor,
            request=request,
            target=batch,
            field="payees",
            detail={"permission": SEE_PAYEES, "action": "export"},
        )
        raise PermissionDenied(batch.REVEAL_REFUSAL)


def _build_pdf(context: background.ExportContext) -> background.Built:
    batch = _batch_of(context.arguments)
    named = write_batch_pdf(
        context.output, batch=batch, actor=context.actor, progress=context.progress
    )
    return background.Built(file_name(batch, "pdf"), PDF_TYPE, named_case_ids=named)


def _transfer_builder(write, extension: str, content_type: str):
    def build(context: background.ExportContext) -> background.Built:
        batch = _batch_of(context.arguments)
        with_payees = context.arguments["payees"]
        write(
            context.output,
            batch=batch,
            actor=context.actor,
            with_payees=with_payees,
            progress=context.progress,
        )
        named = (
            sorted({line.case_pk for line in selectors.iter_export_lines(batch=batch)})
            if with_payees
            else []
        )
        return background.Built(file_name(batch, extension), content_type, named_case_ids=named)

    return build


def _batch_page(arguments: dict) -> str:
    return reverse("payments:batch_detail", args=[arguments["batch"]])


def register_exports() -> None:
    """Called from PaymentsConfig.ready()."""
    background.register(
        background.ExportKind(
            code="payments.batch_pdf",
            label=gettext_lazy("Payroll sheet (PDF)"),
            permission=EXPORT_PERMISSION,
            build=_build_pdf,
            check=_check_batch,
            back_url=_batch_page,
            names_people=True,
            arguments={"batch": int},
        )
    )
    for extension, write, content_type, label in (
        ("csv", write_batch_csv, CSV_TYPE, gettext_lazy("Transfer list (CSV)")),
        ("xlsx", write_batch_xlsx, XLSX_TYPE, gettext_lazy("Transfer list (XLSX)")),
    ):
        background.register(
            background.ExportKind(
                code=f"payments.batch_{extension}",
                label=label,
                permission=EXPORT_PERMISSION,
                build=_transfer_builder(write, extension, content_type),
                check=_check_transfers,
                back_url=_batch_page,
                names_people=True,
                arguments={"batch": int, "payees": bool},
            )
        )
