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


def test_one_way_to_write_dates_in_local_time(page: Page, log_in, make_staff):
    """English "6 Dec 2026 14:05" and Burmese day-month-year with the month's name, everywhere,
    local time inside the audit trail's change lists too; "last month" is last month."""
    auditor = make_staff(Role.AUDITOR)
    verifier = make_staff(Role.VERIFIER)
    case = services.case_start_verification(
        case=assign_verifier(_intake(make_staff(Role.INTAKE_OFFICER)), verifier), actor=verifier
    )
    check = services.verification_check_record(
        check=case.checks.first(), actor=verifier, result=CheckResult.PASSED
    )
    local = timezone.localtime(check.checked_at)

    log_in(auditor)
    page.goto(f"/accounts/audit/?case={case.code}")
    changes = page.locator("table tbody")
    expect(changes).to_contain_text(f"{local.day} {local:%b %Y %H:%M}")
    us_style = f"{local:%m}/{local:%d}/{local:%Y}"
    assert us_style not in changes.inner_text()
    assert check.checked_at.astimezone(datetime.UTC).isoformat()[:16] not in changes.inner_text()

    page.goto("/cases/reports/")
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    description = page.locator("figcaption")
    expect(description).to_contain_text(f"This month so far, {this_month:%b %Y}")
    expect(description).to_contain_text(f"Last month, {last_month:%b %Y}")

    # In Burmese: the day, the month by its Burmese name, the year; never month/day.
    page.get_by_label("Language").select_option("my")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "my")
    page.goto(f"/accounts/audit/?case={case.code}")
    text = page.locator("table tbody").inner_text()
    assert f"{local.day} " in text and f"{local:%Y %H:%M}" in text
    assert f"{local:%b}" not in text and us_style not in text


def test_audit_trail_reads_as_people_speak(page: Page, log_in, make_staff):
    from payments import services as payment_services
    from tests.factories import StipendPlanFactory, VerifiedCaseFactory

    auditor = make_staff(Role.AUDITOR)
    officer = make_staff(Role.FINANCE_OFFICER, first_name="Hnin", last_name="Wai")
    plan = StipendPlanFactory(case=VerifiedCaseFactory(code="HV-2026-00023"))
    period = timezone.localdate().replace(day=1)
    payment_services.disbursement_run(period=period, actor=officer)
    VerifiedCaseFactory.create_batch(55)

    log_in(auditor)
    page.goto("/accounts/audit/")
    # Older and newer pages, and the filters kept from page to page.
    field(page, "What").select_option(label="Created")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Older", exact=True).click()
    expect(page).to_have_url(re.compile(r"action=insert.*before="))
    expect(page.get_by_role("link", name="Newer", exact=True)).to_be_visible()

    page.goto("/accounts/audit/")
    field(page, "Case code").fill(plan.case.code)
    field(page, "Who (user name)").fill(officer.username)
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr")
    expect(rows.filter(has_text=f"Payment {plan.case.code}, {period:%Y-%m}")).to_have_count(1)
    expect(rows.first).to_contain_text("Hnin Wai")
    # A person who does not exist: said, and nothing shown rather than everything.
    field(page, "Who (user name)").fill("nobody-at-all")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No member of staff has that user name.")).to_be_visible()
    expect(page.get_by_text("No changes recorded yet.")).to_be_visible()


def test_a_refused_page_is_one_quiet_log_line(page: Page, log_in, make_staff, caplog):
    import logging

    verifier = make_staff(Role.VERIFIER)
    log_in(verifier)
    with caplog.at_level(logging.INFO):
        response = page.goto("/payments/")
    assert response is not None and response.status == 403
    refusals = [record for record in caplog.records if record.name == "django.request"]
    assert [(record.levelname, record.exc_info) for record in refusals] == [("INFO", None)]


def _on_one_line(page: Page) -> bool:
    return page.evaluate(
        """() => {
          const items = [...document.querySelectorAll('#main-nav > ul > li.nav-item')];
          const tops = new Set(items.map((item) => Math.round(item.getBoundingClientRect().top)));
          const bar = document.querySelector('nav.navbar').getBoundingClientRect();
          return items.length > 1 && tops.size === 1 && bar.height < 80;
        }"""
    )


def test_room_to_breathe(page: Page, log_in, make_staff):
    busy = make_staff(
        Role.CASE_MANAGER,
        Role.HOUSING_COORDINATOR,
        Role.FINANCE_OFFICER,
        Role.JOURNEY_COORDINATOR,
        Role.AUDITOR,
    )
    case = CaseFactory(case_manager=busy, risk_level="high")
    log_in(busy)
    page.goto("/cases/")
    # The navigation fits on one line at 1280 px, in English and in Burmese, in menus per app.
    assert _on_one_line(page)
    menu = page.get_by_role("button", name="Housing")
    menu.click()
    expect(page.get_by_role("link", name="Waiting list")).to_be_visible()
    picker = page.get_by_label("Language")
    assert picker.bounding_box()["width"] >= 80
    picker.select_option("my")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "my")
    assert _on_one_line(page)
    # A favicon.
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(icon).status == 200

    # On a phone: code, status and risk visible without scrolling sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/cases/")
    row = page.locator("table tbody tr").filter(has_text=case.code)
    for cell in (row.get_by_role("link", name=case.code), row.locator("td").nth(1)):
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
    risk = row.locator("td:visible").last
    box = risk.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth,"
        " document.querySelector('.table-responsive').scrollWidth,"
        " document.querySelector('.table-responsive').clientWidth]"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths


def test_a_reveal_in_place_leaves_the_unsaved_changes_warning_on(page: Page, log_in, make_staff):
    """A "Reveal" posts its form through htmx and the page stays: a family member typed after
    it, then a link clicked, still asks first."""
    from tests.factories import FamilyMemberFactory

    officer = make_staff(Role.INTAKE_OFFICER)
    case = _intake(officer)
    FamilyMemberFactory(case=case, name="Ma Thandar Win")
    log_in(officer)
    page.goto(f"/cases/{case.pk}/intake/family/")
    page.get_by_role("button", name=re.compile("^Reveal")).first.click()
    expect(page.get_by_text("Ma Thandar Win")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/intake/family/$"))
    field(page, "Name").fill("Ma Hnin Wai")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Haven", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/intake/family/$"))
    assert asked == ["beforeunload"]
    expect(field(page, "Name")).to_have_value("Ma Hnin Wai")
