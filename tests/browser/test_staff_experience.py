"""Staff experience II in a real browser: work is never thrown away silently, numbers and dates
are written one way, the audit trail reads as people speak, and the logs stay quiet. One test
per item of the issue."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.roles import Role
from cases import services
from cases.choices import CheckResult, Status
from cases.models import Case, FamilyMember, ItemBrought
from tests.factories import CaseFactory, assign_verifier

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def field(scope, label: str):
    """A form field by its whole label, required or not."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\s*(\*\s*\(required\))?$"))


def _intake(actor, **fields) -> Case:
    defaults = {
        "real_name": "Ko Zaw Lin Htet",
        "service_number": "BA-612345",
        "date_of_birth": datetime.date(1991, 3, 9),
        "contact_date": timezone.localdate(),
        "channel": "phone",
        "region": "magway",
        "force": "army",
        "rank": "sergeant",
    }
    return services.case_intake(actor=actor, **{**defaults, **fields})


def test_work_is_never_thrown_away_silently(page: Page, log_in, make_staff):
    officer = make_staff(Role.INTAKE_OFFICER)
    verifier = make_staff(Role.VERIFIER)
    case = _intake(officer)

    # Intake: a family member typed and "Go on" pressed is saved, not dropped.
    log_in(officer)
    page.goto(f"/cases/{case.pk}/intake/family/")
    field(page, "Name").fill("Ma Hnin Wai")
    field(page, "Relation").select_option(label="Spouse")
    field(page, "Age").fill("၃၄")
    page.get_by_role("button", name="Go on to items brought").click()
    expect(page.get_by_role("heading", name=re.compile("Items brought"))).to_be_visible()
    member = FamilyMember.objects.get(case=case)
    assert member.age == 34
    # Half an item and "Go on": the page stops and asks, nothing is lost or half-saved.
    field(page, "Handed over to").fill("Unit 3")
    page.get_by_role("button", name="Go on to review").click()
    expect(page.get_by_role("alert").filter(has_text="not saved yet")).to_be_visible()
    assert not ItemBrought.objects.filter(case=case).exists()
    field(page, "Item").select_option(label="Rifle")
    page.get_by_role("button", name="Go on to review").click()
    expect(page).to_have_url(re.compile(r"/intake/review/$"))
    assert ItemBrought.objects.get(case=case).handed_over_to == "Unit 3"
    page.context.clear_cookies()

    # Verification: the four checks set at once are saved at once.
    case = services.case_start_verification(case=assign_verifier(case, verifier), actor=verifier)
    log_in(verifier)
    page.goto(f"/cases/{case.pk}/verify/")
    results = field(page, "Result")
    expect(results).to_have_count(4)
    for position in range(3):
        results.nth(position).select_option(label="Passed")
    # Leaving with unsaved changes asks first; staying keeps what was set.
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="The whole case").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/verify/$"))
    assert asked == ["beforeunload"]
    expect(results.nth(0)).to_have_value("passed")

    # "Verified" proposed while a check is open is refused with the open check named.
    page.get_by_label("Verified").check()
    field(page, "Reason").fill("Everything agrees")
    page.get_by_role("button", name="Propose").click()
    expect(page.get_by_text(re.compile("Still open: .*Background check"))).to_be_visible()
    assert Case.objects.get(pk=case.pk).proposed_decision == ""

    for position in range(4):
        results.nth(position).select_option(label="Passed")
    page.get_by_role("button", name="Save the checklist").click()
    expect(page.get_by_text("4 checks changed")).to_be_visible()
    assert set(case.checks.values_list("result", flat=True)) == {CheckResult.PASSED}
    page.get_by_label("Verified").check()
    field(page, "Reason").fill("Everything agrees")
    page.get_by_role("button", name="Propose").click()
    expect(page.get_by_text("Your proposal is recorded")).to_be_visible()
    case.refresh_from_db()
    assert (case.status, case.proposed_decision) == (Status.VERIFYING, Status.VERIFIED)


MYANMAR_DIGITS = str.maketrans("0123456789", "၀၁၂၃၄၅၆၇၈၉")


def test_myanmar_digits_are_one_way_of_writing_numbers(page: Page, log_in, make_staff):
    manager = make_staff(Role.CASE_MANAGER)
    case = CaseFactory(service_number="PL-383057", case_manager=manager)
    other = CaseFactory(service_number="PL-100200", case_manager=manager)

    log_in(manager)
    page.goto("/cases/")
    search = page.get_by_label("Case code or service / ID number")
    # A service number typed with Myanmar digits finds the case stored with Western ones.
    search.fill("PL-၃၈၃၀၅၇")
    search.press("Enter")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(case.code)
    # So does its case code.
    search = page.get_by_label("Case code or service / ID number")
    search.fill(other.code.translate(MYANMAR_DIGITS))
    search.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(other.code)
    # The month is a text box with a numeric keyboard, and takes Myanmar digits.
    page.goto("/cases/")
    month = page.get_by_label("Month of first contact")
    expect(month).to_have_attribute("inputmode", "numeric")
    month.fill(case.contact_date.strftime("%Y-%m").translate(MYANMAR_DIGITS))
    month.press("Enter")
    expect(page.locator("table tbody tr").filter(has_text=case.code)).to_have_count(1)
