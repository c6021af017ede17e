"""A payroll sheet in a real browser: the finance officer asks for it on the batch's page, the
progress page waits for a worker, htmx polling turns it into "ready" without a reload once the
worker has built the file, and the download is the PDF. The worker is the test itself: the
queued task is caught and run as Celery would run it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.roles import Role
from operations import exports
from operations.models import ExportJob
from payments import services
from payments.exports import payroll
from payments.models import Payment
from tests.factories import FundingSourceFactory, StipendPlanFactory

# The live server's requests commit on their own: the test's data must be committed too.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LINES = 40


def test_a_payroll_sheet_is_built_in_the_background_shown_ready_and_downloaded(
    page: Page, log_in, make_staff, monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(payroll, "COMPRESS_PDF", False)  # to read the case codes in the file
    queued: list[str] = []
    monkeypatch.setattr(
        exports, "queue_task", lambda name, **kw: queued.append(kw["job_id"]) or True
    )
    officer = make_staff(Role.FINANCE_OFFICER)
    StipendPlanFactory.create_batch(LINES, funding_source=FundingSourceFactory())
    (batch,) = services.disbursement_run(period=timezone.localdate().replace(day=1), actor=officer)
    log_in(officer)

    page.goto(f"/payments/batches/{batch.pk}/")
    page.get_by_role("button", name="Payroll sheet (PDF)").click()
    progress = page.locator("#export-progress")
    expect(progress).to_contain_text("Waiting for a worker to start building the file")
    (job_id,) = queued
    # Marks this very page: a reload or a navigation would lose the mark.
    page.evaluate("window.stillTheSamePage = true")

    assert exports.export_build(job_id=job_id) == ExportJob.Status.READY
    expect(progress).to_contain_text("The file is ready", timeout=8_000)
    assert page.evaluate("window.stillTheSamePage === true")

    download_link = page.locator("#export-download")
    expect(download_link).to_contain_text(f"batch-{batch.period:%Y-%m}-THB.pdf")
    with page.expect_download() as started:
        download_link.click()
    download = started.value
    assert download.suggested_filename == f"batch-{batch.period:%Y-%m}-THB.pdf"
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF") and content.rstrip().endswith(b"%%EOF")
    for code in Payment.objects.filter(batch=batch).values_list("case__code", flat=True):
        assert code.encode() in content
