"""The exports of a batch: no names for a reader who may not see identity (the CSV and XLSX without
payees never have names at all), names on the payroll sheet only for a reader who may reveal
them — a reveal within the reader's budget, at the build and at each download —, every export in
the access log, spreadsheet formulas neutralised, a generic file name and no caching, and a
sheet drawn in memory that does not grow with its lines. Each is asked for, built in the
background and downloaded as staff do (tests/exporting.py)."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from accounts.roles import Role
from accounts.services import reveal_within_budget
from audit.models import AccessLog
from payments import exports, selectors, services
from payments.exports import common, payroll
from payments.models import Payment
from tests import exporting
from tests.factories import StipendPlanFactory, VerifiedCaseFactory, add_to_team

pytestmark = pytest.mark.django_db

THIS_MONTH = timezone.localdate().replace(day=1)
NAME = "Kyaw Zin Htet"
OTHER_NAME = "Thiri Nandar Soe"
FORMULA = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture(autouse=True)
def readable_pdf(monkeypatch):
    """Uncompressed page streams, so the test can look for text in the PDF's bytes."""
    monkeypatch.setattr(payroll, "COMPRESS_PDF", False)


@pytest.fixture
def officer(make_staff):
    return make_staff(Role.FINANCE_OFFICER)


@pytest.fixture
def revealing_officer(make_staff):
    user = make_staff(Role.FINANCE_OFFICER)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="reveal_identity")
    )
    return user


@pytest.fixture
def batch(officer, make_staff):
    """An approved batch of two named people; one line paid by mobile money with a reference
    that a spreadsheet would run as a formula."""
    named = StipendPlanFactory(case=VerifiedCaseFactory(real_name=NAME))
    StipendPlanFactory(case=VerifiedCaseFactory(real_name=OTHER_NAME))
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    batch = services.batch_approve(batch=batch, actor=make_staff(Role.FINANCE_APPROVER))
    services.payments_record(
        payments=[Payment.objects.get(plan=named)],
        actor=officer,
        outcome="paid",
        method="mobile_money",
        reference=FORMULA,
    )
    return batch


def codes_of(batch) -> list[str]:
    return sorted(Payment.objects.filter(batch=batch).values_list("case__code", flat=True))


def download(client, name: str, batch, *, payees: bool = False):
    """Asked for, built in the background, downloaded: the file's bytes."""
    response = exporting.export(
        client,
        reverse(f"payments:batch_{name}", args=[batch.pk]),
        {"payees": "1"} if payees else None,
    )
    extension = name
    assert response["Content-Disposition"] == (
        f'attachment; filename="batch-{batch.period:%Y-%m}-{batch.currency}.{extension}"'
    )
    assert "no-store" in response["Cache-Control"]
    return exporting.content(response)


def export_entries(batch):
    """What the builder logs, as the download did before; each download is logged on its job."""
    return AccessLog.objects.filter(
        action=AccessLog.Action.EXPORT, target_type="payments.disbursementbatch", target_id=batch.pk
    )


def xlsx_cells(content: bytes) -> list:
    sheet = load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def test_csv_has_codes_and_no_names_and_is_logged(login, officer, batch):
    text = download(login(officer), "csv", batch).decode("utf-8-sig")
    assert NAME not in text and OTHER_NAME not in text
    for code in codes_of(batch):
        assert code in text
    assert "1000.00,THB" in text
    (entry,) = export_entries(batch)
    assert entry.actor == officer
    assert entry.detail["export"] == "payments.batch_csv"
    assert entry.detail["lines"] == 2 and entry.detail["names"] is False
    assert entry.target_label == batch.label


def test_xlsx_has_codes_and_no_names_and_is_logged(login, officer, batch):
    values = [str(cell.value) for cell in xlsx_cells(download(login(officer), "xlsx", batch))]
    assert not any(NAME in value or OTHER_NAME in value for value in values)
    for code in codes_of(batch):
        assert code in values
    (entry,) = export_entries(batch)
    assert entry.detail["export"] == "payments.batch_xlsx"


def test_payroll_pdf_without_the_reveal_permission_has_codes_only(login, officer, batch):
    content = download(login(officer), "pdf", batch)
    assert content.startswith(b"%PDF")
    assert NAME.encode() not in content and OTHER_NAME.encode() not in content
    for code in codes_of(batch):
        assert code.encode() in content
    assert b"Signature" in content
    (entry,) = export_entries(batch)
    assert entry.detail["export"] == "payments.batch_pdf" and entry.detail["names"] is False
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


def test_payroll_pdf_with_the_reveal_permission_prints_names_as_a_logged_reveal(
    login, revealing_officer, batch
):
    # Need-to-know: names only of the cases whose team the reader is on; the others masked.
    cases = [payment.case for payment in Payment.objects.filter(batch=batch).select_related("case")]
    (named,) = [case for case in cases if case.real_name == NAME]
    add_to_team(named, revealing_officer)
    content = download(login(revealing_officer), "pdf", batch)
    assert NAME.encode() in content and OTHER_NAME.encode() not in content
    reveals = AccessLog.objects.filter(action=AccessLog.Action.REVEAL)
    # The build lists the cases whose names it printed; the download is a reveal of its own.
    (reveal,) = reveals.filter(detail__via="payments.batch_pdf")
    (downloaded,) = reveals.filter(detail__download="payments.batch_pdf")
    for entry in (reveal, downloaded):
        assert entry.actor == revealing_officer
        assert (entry.target_type, entry.target_id, entry.field) == (
            "payments.disbursementbatch",
            str(batch.pk),
            "real_name",
        )
        assert NAME not in str(entry.detail) and NAME not in entry.target_label
    assert reveal.detail["cases"] == [named.code] and reveal.detail["names"] == 1
    assert downloaded.detail["names"] == 1
    (entry,) = export_entries(batch)
    assert entry.detail["names"] is True


def test_transfer_lists_never_have_names_even_for_a_reader_who_may_see_them(
    login, revealing_officer, batch
):
    client = login(revealing_officer)
    csv_text = download(client, "csv", batch).decode("utf-8-sig")
    xlsx_values = [str(cell.value) for cell in xlsx_cells(download(client, "xlsx", batch))]
    for name in (NAME, OTHER_NAME):
        assert name not in csv_text
        assert not any(name in value for value in xlsx_values)
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


def test_a_reference_that_looks_like_a_formula_is_neutralised(login, officer, batch):
    # The reference is printed only with the payees, for the officer paying the batch out.
    client = login(officer)
    csv_text = download(client, "csv", batch, payees=True).decode("utf-8-sig")
    assert f"'{FORMULA}" in csv_text.replace('""', '"')
    assert "\n=" not in csv_text and ",=" not in csv_text
    cells = xlsx_cells(download(client, "xlsx", batch, payees=True))
    (reference,) = [cell for cell in cells if "HYPERLINK" in str(cell.value)]
    assert reference.data_type == "s"
    assert reference.value == f"'{FORMULA}"
    assert not any(cell.data_type == "f" for cell in cells)


def test_a_transfer_list_without_payees_carries_no_mobile_money_reference(login, officer, batch):
    client = login(officer)
    csv_text = download(client, "csv", batch).decode("utf-8-sig")
    assert "HYPERLINK" not in csv_text
    assert not any(
        "HYPERLINK" in str(cell.value) for cell in xlsx_cells(download(client, "xlsx", batch))
    )


def test_auditor_exports_too_and_each_export_is_logged(login, auditor, batch):
    client = login(auditor)
    for name in ("pdf", "csv", "xlsx"):
        download(client, name, batch)
    assert export_entries(batch).filter(actor=auditor).count() == 3


def test_case_manager_may_see_names_but_not_export_payments(login, make_staff, batch):
    response = login(make_staff(Role.CASE_MANAGER)).post(
        reverse("payments:batch_pdf", args=[batch.pk])
    )
    assert response.status_code == 403
    assert not export_entries(batch).exists()


def test_the_export_functions_check_the_permission_themselves(make_staff, batch):
    for write in (exports.write_batch_csv, exports.write_batch_xlsx, exports.write_batch_pdf):
        output = io.BytesIO()
        with pytest.raises(PermissionDenied):
            write(output, batch=batch, actor=make_staff(Role.HOUSING_COORDINATOR))
        assert output.getvalue() == b""
    assert not export_entries(batch).exists()


def test_kyat_amounts_have_no_decimals_in_the_exports(officer, make_staff):
    from tests.factories import FundingSourceFactory

    source = FundingSourceFactory(name="Kyat fund", currency="MMK")
    StipendPlanFactory(amount="100000", currency="MMK", funding_source=source)
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    pdf, text = io.BytesIO(), io.BytesIO()
    exports.write_batch_pdf(pdf, batch=batch, actor=officer)
    assert b"100,000" in pdf.getvalue() and b"100,000.00" not in pdf.getvalue()
    exports.write_batch_csv(text, batch=batch, actor=officer)
    assert ",100000,MMK," in text.getvalue().decode("utf-8-sig")


def sheet_bytes(batch, lines: list, *, prepared_for: str, compress: bool) -> bytes:
    """A payroll sheet of lines given here (no database), codes only, in memory."""
    output = io.BytesIO()
    exports.write_payroll_pdf(
        output,
        batch=batch,
        lines=lines,
        count=len(lines),
        total=sum((line.amount for line in lines), start=Decimal(0)),
        names_of=None,
        prepared_for=prepared_for,
        compress=compress,
    )
    return output.getvalue()


def burmese_payroll_pdf(batch, officer) -> bytes:
    with translation.override("my"):
        return sheet_bytes(
            batch,
            list(selectors.iter_export_lines(batch=batch)),
            prepared_for=officer.username,
            compress=False,
        )


def test_payroll_pdf_for_a_burmese_reader_is_in_burmese_set_in_a_myanmar_font(officer, batch):
    content = burmese_payroll_pdf(batch, officer)

    assert b"Padauk" in content or b"NotoSansMyanmar" in content, (
        "No Myanmar font in the PDF: make test installs fonts-sil-padauk (scripts/ensure-fonts.sh)."
    )
    assert b"Signature" not in content and b"Payroll sheet" not in content
    for code in codes_of(batch):
        assert code.encode() in content


def test_payroll_pdf_is_in_english_not_in_empty_boxes_where_no_myanmar_font_is_installed(
    officer, batch, monkeypatch, caplog
):
    monkeypatch.setattr(payroll, "MYANMAR_FONT_CANDIDATES", ("/nonexistent/font.ttf",))
    payroll._myanmar_pdf_font.cache_clear()
    try:
        content = burmese_payroll_pdf(batch, officer)
    finally:
        payroll._myanmar_pdf_font.cache_clear()

    assert b"Signature" in content
    assert b"Padauk" not in content
    assert "payments.payroll_pdf_in_english" in caplog.text


def flate_streams(pdf: bytes) -> list[bytes]:
    """The decompressed content of every Flate-compressed stream of a PDF."""
    import zlib

    streams = []
    for match in re.finditer(rb"/FlateDecode.*?>>\s*stream\r?\n", pdf, re.DOTALL):
        start = match.end()
        end = pdf.index(b"endstream", start)
        streams.append(zlib.decompressobj().decompress(pdf[start:end]))
    return streams


def test_a_long_compressed_payroll_sheet_has_every_line_on_its_pages(officer):
    """Pages are compressed and written as they are finished (payments/exports/pdf.py): the
    document still holds each page, each line and the total, and says how many pages it has."""
    from payments.models import DisbursementBatch

    batch = DisbursementBatch(period=THIS_MONTH, currency="THB", status="draft")
    lines = [
        selectors.ExportLine(number, f"HV-2026-{number:05d}", Decimal("1000.00"), "THB", "", "", "")
        for number in range(1, 101)
    ]
    pdf = sheet_bytes(batch, lines, prepared_for="tester", compress=True)
    assert b"HV-2026-00042" not in pdf  # compressed
    pages = b"".join(flate_streams(pdf))
    for number in (1, 42, 100):
        assert f"HV-2026-{number:05d}".encode() in pages
    assert b"100,000.00" in pages
    page_count = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page ")
    assert page_count >= 100 // 16
    assert pdf.count(b"endstream") >= page_count


def test_a_payroll_sheet_with_names_is_not_downloaded_after_the_reveal_is_taken_away(
    login, revealing_officer, batch
):
    (named,) = [
        payment.case
        for payment in Payment.objects.filter(batch=batch).select_related("case")
        if payment.case.real_name == NAME
    ]
    add_to_team(named, revealing_officer)
    client = login(revealing_officer)
    job = exporting.build(exporting.start(client, reverse("payments:batch_pdf", args=[batch.pk])))
    assert job.named_case_ids == [named.pk]
    revealing_officer.user_permissions.clear()
    response = exporting.download(client, job)
    assert not response.has_header("Content-Disposition")
    denied = AccessLog.objects.get(action=AccessLog.Action.DENIED, target_id=str(job.pk))
    assert denied.detail["why"] == "no longer allowed"
    assert not AccessLog.objects.filter(detail__has_key="download").exists()


def test_a_payroll_sheet_without_names_is_still_downloaded_without_the_reveal(
    login, officer, batch
):
    client = login(officer)
    job = exporting.build(exporting.start(client, reverse("payments:batch_pdf", args=[batch.pk])))
    assert job.named_case_ids == []
    response = exporting.download(client, job)
    assert response.has_header("Content-Disposition")


class _Discard:
    """An output that keeps nothing, so that only the build's own memory is measured."""

    def __init__(self) -> None:
        self.pages = 0

    def write(self, data: bytes) -> int:
        self.pages += len(re.findall(rb"/Type /Page\b", data))
        return len(data)


def _draw(count: int, *, names: bool) -> tuple[int, int]:
    """Peak traced memory (bytes) of drawing a sheet of `count` lines, and its pages."""
    import tracemalloc

    from payments.models import DisbursementBatch

    batch = DisbursementBatch(period=THIS_MONTH, currency="THB", status="draft")
    lines = (
        selectors.ExportLine(number, f"HV-2026-{number:05d}", Decimal("1000.00"), "THB", "", "", "")
        for number in range(1, count + 1)
    )
    printed = []
    output = _Discard()
    tracemalloc.start()
    try:
        payroll.write_payroll_pdf(
            output,
            batch=batch,
            lines=lines,
            count=count,
            total=Decimal(1000 * count),
            names_of=(lambda chunk: {line.case_pk: OTHER_NAME for line in chunk})
            if names
            else None,
            prepared_for="tester",
            compress=True,
            names_printed=lambda chunk: printed.append(len(chunk)),
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sum(printed) == (count if names else 0)
    return peak, output.pages


@pytest.mark.parametrize("names", [False, True])
def test_drawing_four_times_the_lines_takes_no_more_memory(names):
    """Pages are written as they are finished and the printed names are not kept: what still
    grows is a few bytes a page (offsets), not the ~8 KiB a page ReportLab's own document kept
    until the end, nor the lines."""
    _draw(50, names=names)  # fonts loaded and registered once, outside the measure
    small_peak, small_pages = _draw(500, names=names)
    large_peak, large_pages = _draw(2000, names=names)
    assert small_pages > 30 and large_pages > 4 * small_pages - 4
    assert large_peak - small_peak < 64 * 1024, (small_peak, large_peak)


def test_the_cases_whose_names_were_printed_are_logged_a_bounded_number_at_a_time(
    revealing_officer, batch, monkeypatch
):
    """Each REVEAL entry lists at most REVEAL_CASES_PER_ENTRY case codes (here one); together
    they list every case whose name was printed, and they count once in the reader's budget."""
    from accounts import budgets

    monkeypatch.setattr(common, "REVEAL_CASES_PER_ENTRY", 1)
    cases = [payment.case for payment in Payment.objects.filter(batch=batch).select_related("case")]
    for case in cases:
        add_to_team(case, revealing_officer)
    named = payroll.write_batch_pdf(io.BytesIO(), batch=batch, actor=revealing_officer)
    assert sorted(named) == sorted(case.pk for case in cases)
    entries = AccessLog.objects.filter(action=AccessLog.Action.REVEAL).order_by("pk")
    assert [entry.detail["part"] for entry in entries] == [1, 2]
    assert all(len(entry.detail["cases"]) == 1 for entry in entries)
    listed = sorted(code for entry in entries for code in entry.detail["cases"])
    assert listed == sorted(case.code for case in cases)
    assert budgets.revealed_today(revealing_officer) == 1


def test_a_payroll_sheet_with_names_past_the_reveal_budget_is_not_built(
    login, revealing_officer, batch, settings, make_staff
):
    from notifications.models import Notification
    from operations.models import ExportJob

    settings.HAVEN_REVEAL_BUDGET_PER_DAY = 1
    make_staff(Role.ADMINISTRATOR)
    cases = [payment.case for payment in Payment.objects.filter(batch=batch).select_related("case")]
    for case in cases:
        add_to_team(case, revealing_officer)
    # Another record revealed today spends the budget.
    reveal_within_budget(actor=revealing_officer, obj=cases[0], field_name="real_name")
    client = login(revealing_officer)
    job = exporting.build(exporting.start(client, reverse("payments:batch_pdf", args=[batch.pk])))
    assert job.status == ExportJob.Status.FAILED
    assert "your budget for the day" in job.error
    assert not exporting.download(client, job).has_header("Content-Disposition")
    assert AccessLog.objects.filter(action=AccessLog.Action.REVEAL).count() == 1
    refusal = AccessLog.objects.get(action=AccessLog.Action.DENIED, actor=revealing_officer)
    assert refusal.detail == {"action": "reveal", "budget": 1}
    assert Notification.objects.filter(kind="accounts.reveal_budget").exists()


def test_each_download_of_a_payroll_sheet_with_names_counts_in_the_reveal_budget(
    login, revealing_officer, batch, settings, make_staff
):
    settings.HAVEN_REVEAL_BUDGET_PER_DAY = 1
    make_staff(Role.ADMINISTRATOR)
    cases = [payment.case for payment in Payment.objects.filter(batch=batch).select_related("case")]
    for case in cases:
        add_to_team(case, revealing_officer)
    client = login(revealing_officer)
    job = exporting.build(exporting.start(client, reverse("payments:batch_pdf", args=[batch.pk])))
    assert NAME.encode() in exporting.content(exporting.download(client, job))
    tomorrow = datetime.datetime.combine(
        timezone.localdate() + datetime.timedelta(days=1),
        datetime.time(0, 1),
        tzinfo=timezone.get_current_timezone(),
    )
    with time_machine.travel(tomorrow):
        # The first download of the day is a reveal of the batch: it takes the day's budget.
        client = login(revealing_officer)
        assert NAME.encode() in exporting.content(exporting.download(client, job))
        # ... so a reveal of another record is refused, and a new sheet's download is not.
        with pytest.raises(PermissionDenied):
            reveal_within_budget(actor=revealing_officer, obj=cases[0], field_name="real_name")
        assert exporting.download(client, job).has_header("Content-Disposition")
    downloads = AccessLog.objects.filter(
        action=AccessLog.Action.REVEAL, detail__download="payments.batch_pdf"
    )
    assert downloads.count() == 3
    assert {entry.detail["names"] for entry in downloads} == {len(cases)}


def test_the_pages_written_as_they_are_finished_make_a_valid_pdf_index():
    """The cross-reference table points at every object where it really starts, startxref at
    the table, and the page tree counts every page (a reader finds nothing otherwise)."""
    from payments.models import DisbursementBatch

    batch = DisbursementBatch(period=THIS_MONTH, currency="THB", status="draft")
    lines = [
        selectors.ExportLine(number, f"HV-2026-{number:05d}", Decimal("1000.00"), "THB", "", "", "")
        for number in range(1, 61)
    ]
    pdf = sheet_bytes(batch, lines, prepared_for="tester", compress=True)
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))
    assert pdf[start:].startswith(b"xref\n0 ")
    header = re.match(rb"xref\n0 (\d+)\n", pdf[start:])
    size = int(header.group(1))
    entries = pdf[start + header.end() :].split(b"\n")[:size]
    assert entries[0] == b"0000000000 65535 f "
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry[:10])
        assert entry.endswith(b" 00000 n "), entry
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number), number
    assert re.search(rb"/Size %d\n" % size, pdf)
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    assert pages >= 4
    assert re.search(rb"/Count %d /Kids \[" % pages, pdf)
