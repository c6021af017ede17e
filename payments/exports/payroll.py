"""The payroll sheet of a batch (PDF, with a blank signature column for a cash distribution),
drawn page by page on a canvas from a server-side cursor: never one table held in memory."""

from __future__ import annotations

import functools
import importlib.util
import logging
from array import array
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.textobject import bidiShapedText
from reportlab.platypus import Paragraph

from accounts.models import User
from accounts.roles import require_permission
from accounts.services import may_reveal
from payments import selectors
from payments.exports.common import (
    EXPORT_PERMISSION,
    NamedCases,
    advance,
    chunks,
    log_export,
)
from payments.exports.pdf import StreamingCanvas
from payments.models import DisbursementBatch
from payments.templatetags.payments_money import format_amount, format_money
from protection.keys import Erased
from protection.masks import MASK

# Page streams are compressed; tests switch it off to read the text.
COMPRESS_PDF = True
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

logger = logging.getLogger(__name__)


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


class _PayrollCanvas:
    """Draws the sheet's table row by row, starting a page (with the header row repeated and
    the footer) whenever the next row would not fit. Each page's text goes into one text
    object and its rules into one grid, drawn when the page is done: a row costs a few text
    operators, which is what lets 98,000 lines be drawn in seconds."""

    def __init__(
        self, canvas: StreamingCanvas, *, font: str, shaping: bool, label: str, names: bool
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
    names_printed: Callable[[list[selectors.ExportLine]], None] | None = None,
) -> None:
    """The sheet itself: a table of case code, (name,) amount, currency and a blank signature
    column, with the batch's total, drawn as the lines come, each page written to `output` as
    soon as it is finished (payments/exports/pdf.py). `names_of` (None for a reader who may not
    see names) decrypts the names of a chunk of lines; `names_printed` is told, a chunk at a
    time, the lines whose names were printed (nothing here keeps them).

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
                names_printed=names_printed,
            )
    font = _myanmar_pdf_font() if shaping else _pdf_font()
    label = batch.label
    canvas = StreamingCanvas(output, pagesize=PAGE_SIZE, pageCompression=1 if compress else 0)
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
                    "when": formats.date_format(timezone.localtime(), "DATETIME_FORMAT"),
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

    number = 0
    for chunk in chunks(lines):
        names = names_of(chunk) if names_of is not None else None
        named: list[selectors.ExportLine] = []
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
        if named and names_printed is not None:
            names_printed(named)
        advance(progress, len(chunk))
    total_row = ["", _("Total")]
    if names_of is not None:
        total_row.append("")
    total_row += [format_amount(total, batch.currency), batch.currency, ""]
    sheet.total_row(total_row)
    sheet.finish_page()
    canvas.showPage()
    canvas.save()


def write_batch_pdf(
    output: BinaryIO,
    *,
    batch: DisbursementBatch,
    actor: User,
    request=None,
    compress: bool | None = None,
    progress=None,
) -> array:
    """The payroll sheet: codes only, or with names for a reader who may reveal identity —
    then REVEAL entries (payments/exports/common.py NamedCases) list the cases whose names
    were printed, and count once in the reader's reveal budget. Returns their ids."""
    require_permission(actor, EXPORT_PERMISSION)
    count, total = selectors.export_totals(batch=batch)
    if progress is not None:
        progress.total(count)
    with_names = may_reveal(actor)
    printed = NamedCases(
        batch=batch, actor=actor, request=request, via="payments.batch_pdf", field_name="real_name"
    )
    write_payroll_pdf(
        output,
        batch=batch,
        lines=selectors.iter_export_lines(batch=batch),
        count=count,
        total=total,
        names_of=(lambda chunk: _names_of(chunk, actor)) if with_names else None,
        prepared_for=actor.get_username(),
        compress=compress,
        progress=progress,
        names_printed=printed.add if with_names else None,
    )
    printed.flush()
    log_export(
        batch=batch,
        actor=actor,
        request=request,
        export_format="pdf",
        lines=count,
        names=with_names,
    )
    return printed.case_ids
