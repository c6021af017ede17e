"""Payout day in a real browser, as a finance officer goes through a 250-line batch: ticks kept
across pages and a double click recorded once, the provider's settlement file checked and then
recorded, every remaining line at once, and the batch closed from its summary with the failed
and unclaimed lines carried into next month. What the day needs but does not test (the plans,
the run and the approval) is created with factories and services."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.roles import Role
from payments import services
from payments.models import BatchStatus, LedgerEntry, Payment
from tests.browser.test_accessibility import check_pages
from tests.factories import FundingSourceFactory, StipendPlanFactory, VerifiedCaseFactory

# The live server's requests commit on their own: the test's data must be committed too, and
# the flush afterwards takes the roles of the data migrations with it unless they are restored.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LINES = 250


def field(scope, label: str):
    """A form field by its whole label (a required field's label ends with "*" for the eye
    and "(required)" for screen readers)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\s*(\*\s*\(required\))?$"))


def alert(page: Page, text: str):
    return page.get_by_role("alert").filter(has_text=text)


def approved_batch(officer, approver, count: int):
    source = FundingSourceFactory()
    StipendPlanFactory.create_batch(count, funding_source=source)
    (batch,) = services.disbursement_run(period=timezone.localdate().replace(day=1), actor=officer)
    return services.batch_approve(batch=batch, actor=approver)


def settlement_csv(lines: list[Payment], failed: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Reference", "Transaction ID", "Status", "Amount"])
    for index, line in enumerate(lines):
        if index < failed:
            writer.writerow([f"HVP-{line.pk}", "", "FAILED", f"{line.amount}"])
        else:
            writer.writerow([f"HVP-{line.pk}", f"WAVE-{line.pk}", "SUCCESS", f"{line.amount}"])
    return buffer.getvalue().encode("utf-8")


def test_a_250_line_batch_is_recorded_reconciled_from_a_file_and_closed_with_carry_forward(
    page: Page, log_in, make_staff
):
    officer = make_staff(Role.FINANCE_OFFICER)
    batch = approved_batch(officer, make_staff(Role.FINANCE_APPROVER), LINES)
    log_in(officer)

    # Ticks on page 1 and page 2, kept across the change of page; a double click records once.
    page.goto(f"/payments/batches/{batch.pk}/")
    page.get_by_role("link", name="Record payouts").click()
    first = page.locator("#pending-lines tbody input[type=checkbox]")
    first.nth(0).check()
    first.nth(1).check()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#selection-count")).to_contain_text("2 lines ticked.")
    page.locator("#pending-lines tbody input[type=checkbox]").nth(0).check()
    field(page, "Outcome").select_option(label="Unclaimed")
    page.get_by_role("button", name="Record the ticked lines").dblclick()
    expect(alert(page, "3 lines recorded as unclaimed.")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="already")).to_have_count(0)
    assert Payment.objects.filter(batch=batch, status="unclaimed").count() == 3

    # The provider's settlement file: checked first, recorded only when confirmed.
    pending = list(Payment.objects.filter(batch=batch, status="pending").order_by("pk"))
    in_file = pending[:200]
    page.goto(f"/payments/batches/{batch.pk}/")
    page.get_by_role("link", name="Record from a settlement file").click()
    field(page, "Settlement file (CSV)").set_input_files(
        files=[
            {
                "name": "wave-settlement.csv",
                "mimeType": "text/csv",
                "buffer": settlement_csv(in_file, failed=2),
            }
        ]
    )
    page.get_by_role("button", name="Check the file").click()
    preview = page.locator("#settlement-preview")
    expect(preview).to_contain_text("198 lines paid")
    expect(preview).to_contain_text("2 lines failed")
    assert Payment.objects.filter(batch=batch, status="pending").count() == LINES - 3
    page.get_by_role("button", name="Record 200 lines").click()
    expect(alert(page, "200 lines recorded as failed, paid.")).to_be_visible()

    # Every remaining line at once, whatever page it is on.
    page.get_by_role("link", name="Record payouts").click()
    remaining = LINES - 203
    page.get_by_label(f"All {remaining} pending lines of the batch, on every page").check()
    field(page, "Outcome").select_option(label="Paid")
    field(page, "Method").select_option(label="Cash against acknowledgement")
    field(page, "The recipient acknowledged receiving the cash").check()
    page.get_by_role("button", name="Record the ticked lines").click()
    expect(alert(page, f"{remaining} lines recorded as paid.")).to_be_visible()

    # Closing shows the summary and carries the failed and unclaimed lines in the same step.
    page.get_by_role("button", name="Close the batch").click()
    summary = page.locator("#close-summary")
    expect(summary.locator("tr").filter(has_text="Paid")).to_contain_text(str(LINES - 5))
    expect(summary.locator("tr").filter(has_text="Failed")).to_contain_text("2")
    expect(summary.locator("tr").filter(has_text="Unclaimed")).to_contain_text("3")
    carry = page.get_by_label("Carry the failed and unclaimed lines into next month's run")
    expect(carry).to_be_checked()
    page.get_by_role("button", name="Close the batch").click()
    expect(alert(page, "5 lines will be paid again in next month's run.")).to_be_visible()

    batch.refresh_from_db()
    assert batch.status == BatchStatus.CLOSED
    assert not Payment.objects.filter(batch=batch, status="pending").exists()
    assert Payment.objects.filter(batch=batch, carry_forward=True).count() == 5
    # Every line recorded once: approval's entry and the two of its outcome, no more.
    assert LedgerEntry.objects.filter(batch=batch).count() == LINES * 3


def test_payout_pages_are_usable_with_keyboard_on_phone_and_office_screens(
    page: Page, log_in, make_staff
):
    officer = make_staff(Role.FINANCE_OFFICER)
    batch = approved_batch(officer, make_staff(Role.FINANCE_APPROVER), 3)
    VerifiedCaseFactory()
    log_in(officer)
    check_pages(
        page,
        [
            f"/payments/batches/{batch.pk}/record/",
            f"/payments/batches/{batch.pk}/settlement/",
            f"/payments/batches/{batch.pk}/close/",
            "/payments/cases-without-plan/",
        ],
    )
