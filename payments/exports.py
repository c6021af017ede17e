"""The exports of a batch: a payroll sheet (PDF, with a blank signature column for a cash
distribution) and transfer lists (CSV and XLSX). People appear by case code; names appear on
the payroll sheet only for a reader allowed to see identity, and on the transfer lists (with
wallets and accounts) only for the officer paying the batch out, during the payout; either
counts as a reveal. Every export is written to the access log, with the batch as its target."""

from __future__ import annotations

import csv
import functools
import importlib.util
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from accounts.models import User
from accounts.roles import require_permission
from accounts.services import may_reveal, record_reveal
from audit.models import AccessLog
from audit.services import log_access
from payments import selectors
from payments.models import DisbursementBatch, PaymentMethod, PaymentStatus
from payments.money import MINOR_UNITS, Currency, quantum
from payments.rules import PAYOUT_PERMISSION
from payments.templatetags.payments_money import format_amount, format_money
from protection.keys import Erased, decrypt_text
from protection.masks import MASK

EXPORT_PERMISSION = "payments.view_disbursementbatch"

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# ReportLab compresses page streams by default; tests switch it off to read the text.
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
            # A mobile money or bank reference leads to the person's wallet: encrypted under the
            # case's key, and printed only on a sheet that also shows whom each line pays.
            _reference(line.reference) if payees is not None else "",
            _status_label(line.status),
            *(
                [payees[index].name, _method_label(payees[index].method), payees[index].account]
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


def _payees(
    lines: list[selectors.ExportLine], batch: DisbursementBatch, actor: User, request
) -> list[selectors.Payee]:
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
        detail={"cases": sorted({line.case_code for line in lines})},
    )
    return selectors.payees_for(pairs=[(line.plan_pk, line.case_pk) for line in lines])


# --- CSV and XLSX: for transfers; names and wallets only for the payout ----------------------


def batch_csv(
    *, batch: DisbursementBatch, actor: User, request=None, with_payees: bool = False
) -> Export:
    """The transfer list; `with_payees` adds name, method and wallet or account, for the
    officer paying the batch out only (PermissionDenied, logged, for anyone else)."""
    require_permission(actor, EXPORT_PERMISSION)
    lines = selectors.export_lines(batch=batch)
    payees = _payees(lines, batch, actor, request) if with_payees else None
    buffer = io.StringIO()
    # A byte-order mark, so spreadsheets read the (possibly Burmese) labels as UTF-8.
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_safe(cell) for cell in _transfer_header(with_payees)])
    for row in _transfer_rows(lines, payees):
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    _log_export(
        batch=batch,
        actor=actor,
        request=request,
        export_format="csv",
        lines=len(lines),
        names=with_payees,
    )
    return Export(
        content=buffer.getvalue().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        filename=file_name(batch, "csv"),
    )


def _text_cell(sheet, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=spreadsheet_safe(value))
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula, whatever it starts with
    if bold:
        cell.font = Font(bold=True)
    return cell


def batch_xlsx(
    *, batch: DisbursementBatch, actor: User, request=None, with_payees: bool = False
) -> Export:
    require_permission(actor, EXPORT_PERMISSION)
    lines = selectors.export_lines(batch=batch)
    payees = _payees(lines, batch, actor, request) if with_payees else None
    places = MINOR_UNITS[Currency(batch.currency)]
    number_format = "#,##0" if places == 0 else "#,##0." + "0" * places
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=f"{batch.period:%Y-%m} {batch.currency}")
    sheet.append([_text_cell(sheet, label, bold=True) for label in _transfer_header(with_payees)])
    for row in _transfer_rows(lines, payees):
        cells = [_text_cell(sheet, value) for value in row]
        cells[2] = WriteOnlyCell(sheet, value=row[2])  # the amount: a Decimal, as a number
        cells[2].number_format = number_format
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    _log_export(
        batch=batch,
        actor=actor,
        request=request,
        export_format="xlsx",
        lines=len(lines),
        names=with_payees,
    )
    return Export(
        content=buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=file_name(batch, "xlsx"),
    )


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


def _page_footer(label: str, font: str, shaping: bool):
    def draw(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(
            document.leftMargin,
            8 * mm,
            _("Haven payroll sheet %(batch)s, page %(page)d")
            % {"batch": label, "page": document.page},
            shaping=shaping,
        )
        canvas.restoreState()

    return draw


def payroll_pdf_bytes(
    *,
    batch: DisbursementBatch,
    lines: list[selectors.ExportLine],
    names: dict[int, str] | None,
    prepared_for: str,
    compress: bool | None = None,
) -> bytes:
    """The sheet itself: a table of case code, (name,) amount, currency and a blank signature
    column, with the batch's total. `names` is None for a reader who may not see names.

    In Burmese when the reader's language is Burmese; in English, rather than in boxes where
    letters should be, when this server lacks the Myanmar font or the shaping library."""
    compress = COMPRESS_PDF if compress is None else compress
    shaping = translation.get_language() == "my"
    if shaping and _myanmar_pdf_font() is None:
        logger.warning("payments.payroll_pdf_in_english", extra={"reason": "no Myanmar font"})
        with translation.override("en"):
            return payroll_pdf_bytes(
                batch=batch, lines=lines, names=names, prepared_for=prepared_for, compress=compress
            )
    font = _myanmar_pdf_font() if shaping else _pdf_font()
    buffer = io.BytesIO()
    label = batch.label
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=_("Payroll sheet %(batch)s") % {"batch": label},
        author="Haven",
        creator="Haven",
        pageCompression=1 if compress else 0,
    )
    styles = getSampleStyleSheet()
    for style in (styles["Title"], styles["Normal"]):
        style.fontName = font
        style.shaping = int(shaping)
    story: list = [
        Paragraph(escape(_("Payroll sheet %(batch)s") % {"batch": label}), styles["Title"]),
        Paragraph(
            escape(
                _(
                    "Batch status: %(status)s. Lines: %(lines)d. Total: %(total)s. "
                    "Printed %(when)s for %(user)s."
                )
                % {
                    "status": batch.get_status_display(),
                    "lines": len(lines),
                    "total": format_money(sum(line.amount for line in lines), batch.currency),
                    "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
                    "user": prepared_for,
                }
            ),
            styles["Normal"],
        ),
    ]
    if names is not None:
        story.append(
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
    story.append(Spacer(1, 6 * mm))

    header = [_("No."), _("Case code")]
    if names is not None:
        header.append(_("Name"))
    header += [_("Amount"), _("Currency"), _("Signature")]
    rows: list[list[str]] = [header]
    for number, line in enumerate(lines, start=1):
        row = [str(number), line.case_code]
        if names is not None:
            row.append(names.get(line.case_pk, ""))
        row += [format_amount(line.amount, line.currency), line.currency, ""]
        rows.append(row)
    total_row = ["", _("Total")]
    if names is not None:
        total_row.append("")
    total = sum((line.amount for line in lines), start=0)
    total_row += [format_amount(total, batch.currency), batch.currency, ""]
    rows.append(total_row)

    if names is not None:
        widths = [14 * mm, 38 * mm, 70 * mm, 35 * mm, 22 * mm, 88 * mm]
    else:
        widths = [14 * mm, 45 * mm, 40 * mm, 25 * mm, 143 * mm]
    amount_column = 3 if names is not None else 2
    table = Table(
        rows, colWidths=widths, repeatRows=1, rowHeights=[8 * mm] + [11 * mm] * (len(rows) - 1)
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("SHAPING", (0, 0), (-1, -1), int(shaping)),
                ("FONTSIZE", (0, 0), (-1, -1), 10),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (amount_column, 0), (amount_column, -1), "RIGHT"),
                ("LINEABOVE", (0, -1), (-1, -1), 1.5, colors.black),
            ]
        )
    )
    story.append(table)
    footer = _page_footer(label, font, shaping)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def batch_pdf(
    *, batch: DisbursementBatch, actor: User, request=None, compress: bool | None = None
) -> Export:
    """The payroll sheet: codes only, or with names for a reader who may reveal identity —
    then one REVEAL entry lists the cases whose names were printed."""
    require_permission(actor, EXPORT_PERMISSION)
    lines = selectors.export_lines(batch=batch)
    with_names = may_reveal(actor)
    names = _names_of(lines, actor) if with_names else None
    content = payroll_pdf_bytes(
        batch=batch,
        lines=lines,
        names=names,
        prepared_for=actor.get_username(),
        compress=compress,
    )
    if with_names and lines:
        log_access(
            action=AccessLog.Action.REVEAL,
            actor=actor,
            request=request,
            target=batch,
            field="real_name",
            detail={
                "via": "payments.batch_pdf",
                "names": sum(1 for name in names.values() if name != MASK),
                "cases": sorted(
                    {line.case_code for line in lines if names.get(line.case_pk) != MASK}
                ),
            },
        )
    _log_export(
        batch=batch,
        actor=actor,
        request=request,
        export_format="pdf",
        lines=len(lines),
        names=with_names,
    )
    return Export(content=content, content_type="application/pdf", filename=file_name(batch, "pdf"))
