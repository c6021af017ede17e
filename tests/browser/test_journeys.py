"""The staff journeys in a real browser against a live server, as a new member of staff would
go through them: logging in with a second factor, intake, verification and decision, housing,
the monthly payments, the auditor's read-only view and the Burmese interface. What a step needs
but does not test is created directly with factories and services."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from accounts.roles import Role
from cases import services as case_services
from cases.choices import CheckItem, CheckResult, Status
from cases.models import VerificationCheck
from config.celery import app as celery_app
from payments import services as payment_services
from tests.browser.conftest import log_out, submit_code, submit_password
from tests.factories import (
    BedFactory,
    FamilyMemberFactory,
    HouseFactory,
    RoomFactory,
    StipendPlanFactory,
    assign_verifier,
)

# The live server's requests commit on their own: the test's data must be committed too, and
# the flush afterwards takes the roles of the data migrations with it unless they are restored.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SERVICE_NUMBER = "BA-123456"


def menu(page: Page, label: str):
    """An entry of the main navigation, its app's menu opened first when it is in one."""
    navigation = page.get_by_role("navigation", name="Main navigation")
    link = navigation.get_by_role("link", name=label, exact=True)
    hidden = page.get_by_role("link", name=label, exact=True, include_hidden=True)
    dropdown = navigation.locator(".dropdown").filter(has=hidden)
    if dropdown.count() and not link.is_visible():
        dropdown.get_by_role("button").click()
    return link


def field(scope, label: str):
    """A form field by its whole label (a required field's label ends with "*" for the eye
    and "(required)" for screen readers)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\s*(\*\s*\(required\))?$"))


def alert(page: Page, text: str):
    return page.get_by_role("alert").filter(has_text=text)


def intake(officer, **fields):
    """A case recorded at intake, as the intake page would record it."""
    values = {
        "real_name": "Aung Min Thu",
        "channel": "messaging",
        "region": "sagaing",
        "force": "army",
        "rank": "corporal",
    }
    return case_services.case_intake(actor=officer, **{**values, **fields})


def verification_ready(case, verifier):
    """A case under verification with every check passed and "verified" proposed."""
    case = case_services.case_start_verification(
        case=assign_verifier(case, verifier), actor=verifier
    )
    for check in VerificationCheck.objects.filter(case=case):
        case_services.verification_check_record(
            check=check, actor=verifier, result=CheckResult.PASSED
        )
    return case_services.case_propose_decision(
        case=case, actor=verifier, decision=Status.VERIFIED, reason="All four checks passed."
    )


# --- logging in ---------------------------------------------------------------------------------


def code_of(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app holding this key (as typed in by hand) shows."""
    key = base64.b32decode(secret.replace(" ", ""))
    return f"{totp(key, drift=steps_ahead):06d}"


def test_new_staff_member_sets_up_authenticator_from_the_qr_page_and_logs_in_with_it(
    page: Page, make_staff
):
    user = make_staff(Role.INTAKE_OFFICER)

    submit_password(page, user.username)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/enrol/$"))
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    expect(page.locator(".haven-qr svg")).to_be_visible()
    secret = page.locator(".haven-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})*", secret), secret
    field(page, "Code from your authenticator app").fill(code_of(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(alert(page, "Your authenticator app is set up.")).to_be_visible()

    # The next day, as it were: password, then the code of the app set up above.
    log_out(page)
    submit_password(page, user.username)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/verify/$"))
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    # The code just used is spent; the app's next one is within the allowed clock drift.
    submit_code(page, code_of(secret, steps_ahead=1))
    expect(page).not_to_have_url(re.compile(r"/accounts/"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(menu(page, "Cases")).to_be_visible()


# --- intake -------------------------------------------------------------------------------------


def test_intake_officer_records_a_contact_with_family_and_rifle_and_is_warned_of_a_duplicate(
    page: Page, log_in, make_staff
):
    log_in(make_staff(Role.INTAKE_OFFICER))
    menu(page, "Cases").click()
    page.get_by_role("link", name="Record a new contact").click()

    # Step 1: identity and contact.
    field(page, "Real name").fill("Kyaw Thura")
    field(page, "Date of birth").fill("1994-03-12")
    field(page, "Service number").fill(SERVICE_NUMBER)
    field(page, "Channel").select_option(label="Messaging app")
    field(page, "State or region").select_option(label="Sagaing Region")
    field(page, "Force").select_option(label="Army")
    page.get_by_role("button", name="Save and go on to family").click()
    message = alert(page, "is recorded. Add the family members next.")
    expect(message).to_be_visible()
    code = re.search(r"HV-\d{4}-\d{5}", message.inner_text()).group()

    # Step 2: family.
    field(page, "Name").fill("Hnin Wai")
    field(page, "Relation").select_option(label="Child")
    field(page, "Age").fill("6")
    field(page, "Needs housing").check()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(alert(page, "The family member is added.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Child")).to_contain_text("yes")
    page.get_by_role("button", name="Go on to items brought").click()

    # Step 3: items brought.
    field(page, "Item").select_option(label="Rifle")
    field(page, "Count").fill("1")
    field(page, "Handed over to").fill("Partner armed group")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(alert(page, "The item is added.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Rifle")).to_contain_text("Weapon")
    page.get_by_role("button", name="Go on to review").click()

    expect(page.get_by_role("heading", name=f"Review: {code}")).to_be_visible()
    expect(page.get_by_text("The draft is saved.")).to_be_visible()
    facts = page.locator("dl")
    expect(facts).to_contain_text(re.compile(r"Family members\s*1"))
    expect(facts).to_contain_text(re.compile(r"Items brought\s*1"))

    # The same person contacts us again: the service number gives them away.
    page.get_by_role("link", name="Record another contact").click()
    field(page, "Real name").fill("K. Thura")
    field(page, "Service number").fill(SERVICE_NUMBER)
    field(page, "Channel").select_option(label="Phone")
    field(page, "State or region").select_option(label="Sagaing Region")
    field(page, "Force").select_option(label="Army")
    page.get_by_role("button", name="Save and go on to family").click()
    warning = alert(page, "This person may already be on file. Nothing has been saved.")
    expect(warning).to_be_visible()
    expect(warning.get_by_role("link", name=code)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/cases/new/$"))


# --- verification and decision ----------------------------------------------------------------


def test_verifier_completes_checklist_and_another_case_manager_verifies(
    page: Page, log_in, make_staff
):
    intake_officer = make_staff(Role.INTAKE_OFFICER)
    verifier = make_staff(Role.VERIFIER)
    manager = make_staff(Role.CASE_MANAGER, Role.INTAKE_OFFICER)
    case = assign_verifier(intake(intake_officer), verifier)
    # A case the manager took in themselves while covering intake, ready for a decision.
    own_case = verification_ready(intake(manager, real_name="Zaw Lin Oo"), verifier)

    log_in(verifier)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("link", name="Verification work").click()
    page.get_by_role("button", name="Start verification").click()
    expect(alert(page, "Verification has started.")).to_be_visible()
    # The whole checklist is set, then saved once.
    for label in CheckItem.labels:
        card = page.get_by_role("group", name=label)
        field(card, "Result").select_option(label="Passed")
        field(card, "Notes").fill("Seen and confirmed.")
    page.get_by_role("button", name="Save the checklist").click()
    expect(alert(page, "The checklist is saved: 4 checks changed.")).to_be_visible()
    proposal = page.locator(".card").filter(
        has=page.get_by_role("heading", name="Propose a decision")
    )
    field(proposal, "Verified").check()
    field(proposal, "Reason").fill("Identity, unit and rank confirmed; interview held.")
    proposal.get_by_role("button", name="Propose").click()
    expect(alert(page, "Your proposal is recorded. A case manager will decide.")).to_be_visible()
    log_out(page)

    log_in(manager)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("link", name="Decide").click()
    expect(page.get_by_text("You took part in this case")).to_have_count(0)
    field(page, "Verified").check()
    field(page, "Reason").fill("The checks and the interview agree.")
    page.get_by_role("button", name="Record the decision").click()
    expect(alert(page, "The decision is recorded.")).to_be_visible()
    expect(page.locator("h1 + .badge")).to_have_text("Verified")

    # Four eyes: the case this manager took in must be decided by someone else.
    page.goto(f"/cases/{own_case.pk}/decide/")
    expect(page.get_by_text("You took part in this case (intake or verification)")).to_be_visible()
    field(page, "Verified").check()
    field(page, "Reason").fill("Looks fine to me.")
    page.get_by_role("button", name="Record the decision").click()
    expect(
        alert(page, "You took this case in: another case manager must decide it.")
    ).to_be_visible()
    page.goto(f"/cases/{own_case.pk}/")
    expect(page.locator("h1 + .badge")).to_have_text("Verifying")


# --- housing --------------------------------------------------------------------------------------


def test_housing_coordinator_allocates_household_from_waiting_list_and_sees_it_on_board(
    page: Page, log_in, make_staff
):
    child = FamilyMemberFactory(relation="child", age=6, needs_housing=True)
    case = child.case
    room = RoomFactory(house=HouseFactory(code_name="Jasmine House"), name="Upstairs")
    BedFactory.create_batch(3, room=room)

    log_in(make_staff(Role.HOUSING_COORDINATOR))
    menu(page, "Occupancy board").click()
    expect(page.locator("#total-heading + p")).to_contain_text("0 of 3 beds occupied, 3 free")
    page.get_by_role("main").get_by_role("link", name="Waiting list").click()
    waiting = page.get_by_role("row").filter(has_text=case.code)
    expect(waiting).to_have_count(2)  # the person and the child
    waiting.first.get_by_role("link", name="Allocate beds").click()

    expect(page.get_by_role("heading", name=f"Beds for {case.code}")).to_be_visible()
    beds = page.get_by_role("group", name="A bed for each person").get_by_role("combobox")
    expect(beds).to_have_count(2)
    for index in range(2):  # the proposal keeps the household in one room
        expect(beds.nth(index)).not_to_have_value("")
    page.get_by_role("button", name="Allocate these beds").click()
    expect(alert(page, f"2 people of {case.code} were given beds.")).to_be_visible()

    menu(page, "Occupancy board").click()
    house = page.locator("section").filter(
        has=page.get_by_role("heading", name=re.compile("Jasmine House"))
    )
    expect(house).to_contain_text("2/3 beds")
    expect(house.get_by_role("link", name=case.code, exact=True)).to_be_visible()
    expect(house.get_by_role("link", name=f"{case.code}/F{child.pk}")).to_be_visible()
    expect(page.locator("#total-heading + p")).to_contain_text("2 of 3 beds occupied, 1 free")
    menu(page, "Waiting list").click()
    expect(page.get_by_role("row").filter(has_text=case.code)).to_have_count(0)


# --- payments -------------------------------------------------------------------------------------


@pytest.fixture
def eager_celery(settings):
    """The run page queues a Celery task; here it runs inside the live server's request.

    The app's configuration is read from the settings the first time it is used: read it before
    changing the settings, or the eager mode would outlive this test and run the tasks of later
    tests in their own process, where a task waiting on the test's lock never returns."""
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def test_finance_month_is_run_approved_paid_out_and_closed(
    page: Page, log_in, make_staff, eager_celery
):
    plan = StipendPlanFactory(amount="1500.00")
    officer = make_staff(Role.FINANCE_OFFICER)
    approver = make_staff(Role.FINANCE_APPROVER)

    log_in(officer)
    menu(page, "Payments").click()
    page.get_by_role("main").get_by_role("link", name="Run a month").first.click()
    period = field(page, "Month to pay").input_value()
    assert re.fullmatch(r"\d{4}-\d{2}", period), period
    page.get_by_role("button", name="Start the run").click()
    expect(alert(page, f"The run for {period} has started")).to_be_visible()
    row = page.locator("#batches tbody tr").filter(has_text=period)
    expect(row).to_contain_text("Draft")
    expect(row).to_contain_text("1,500.00 THB")
    expect(row).not_to_contain_text("run in progress")
    log_out(page)

    log_in(approver)
    menu(page, "Payments").click()
    page.get_by_role("link", name=period).click()
    page.get_by_role("link", name="Approve or reject").click()
    page.get_by_role("button", name="Approve the batch").click()
    expect(alert(page, "is approved: 1 lines are committed.")).to_be_visible()
    expect(page.get_by_text("agrees with the batch total")).to_be_visible()
    log_out(page)

    log_in(officer)
    menu(page, "Payments").click()
    page.get_by_role("link", name=period).click()
    page.get_by_role("link", name="Record payouts").click()
    page.get_by_label(plan.case.code).check()
    field(page, "Outcome").select_option(label="Paid")
    field(page, "Method").select_option(label="Cash against acknowledgement")
    field(page, "The recipient acknowledged receiving the cash").check()
    page.get_by_role("button", name="Record the ticked lines").click()
    expect(alert(page, "1 line recorded as paid.")).to_be_visible()
    expect(page.locator("#line-" + str(plan.payments.get().pk))).to_contain_text("Paid")
    page.get_by_role("button", name="Close the batch").click()
    # Closing asks for confirmation, with the summary of the batch.
    expect(page.locator("#close-summary")).to_contain_text("1,500.00 THB")
    page.get_by_role("button", name="Close the batch").click()
    expect(alert(page, "is closed.")).to_be_visible()
    expect(page.get_by_role("button", name="Close the batch")).to_have_count(0)
    page.get_by_role("link", name="Batches").first.click()
    expect(page.locator("#batches tbody tr").filter(has_text=period)).to_contain_text("Closed")


# --- the auditor ----------------------------------------------------------------------------------

# The only forms an auditor may post: logging out, the language, and the case search.
READ_ONLY_FORMS = {"/accounts/logout/", "/i18n/setlang/", "/cases/"}


def assert_nothing_to_change(page: Page) -> None:
    actions = page.locator("form[method=post], form[method=POST]").evaluate_all(
        "forms => forms.map(form => new URL(form.action).pathname)"
    )
    assert set(actions) <= READ_ONLY_FORMS, f"{page.url} offers {sorted(set(actions))}"
    for name in ("Edit details", "Verification work", "Decide", "Withdraw", "Allocate beds"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)


def test_auditor_sees_the_whole_history_and_can_change_nothing(page: Page, log_in, make_staff):
    intake_officer = make_staff(Role.INTAKE_OFFICER)
    verifier = make_staff(Role.VERIFIER)
    manager = make_staff(Role.CASE_MANAGER)
    case = verification_ready(intake(intake_officer), verifier)
    case_services.case_decide(
        case=case, actor=manager, decision=Status.VERIFIED, reason="Checks agree."
    )

    log_in(make_staff(Role.AUDITOR))
    menu(page, "Cases").click()
    expect(page.get_by_role("link", name="Record a new contact")).to_have_count(0)
    page.get_by_role("link", name=case.code).click()
    assert_nothing_to_change(page)
    page.get_by_role("link", name="History", exact=True).click()
    history = page.locator("table tbody")
    for action, actor in (
        ("Case recorded at intake", intake_officer),
        ("Verification started", verifier),
        ("Verification check recorded", verifier),
        ("Decision proposed", verifier),
        ("Case decided", manager),
    ):
        expect(
            history.get_by_role("row").filter(has_text=action).filter(has_text=actor.username)
        ).not_to_have_count(0)
    assert_nothing_to_change(page)

    menu(page, "Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    trail = page.locator("table tbody")
    for actor in (intake_officer, verifier, manager):
        # People by name in the audit trail.
        name = actor.get_full_name() or actor.username
        expect(trail.get_by_role("row").filter(has_text=name)).not_to_have_count(0)

    menu(page, "Occupancy board").click()
    assert_nothing_to_change(page)
    menu(page, "Payments").click()
    expect(page.get_by_role("link", name="Run a month")).to_have_count(0)

    # Nor by hand: a write page answers 403 to a GET, and to a POST with a valid CSRF token.
    response = page.goto("/cases/new/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    page.goto(f"/cases/{case.pk}/")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    for path, form in (
        (f"/cases/{case.pk}/edit/", {"real_name": "Changed"}),
        (f"/cases/{case.pk}/notes/", {"text": "An auditor's note"}),
        ("/payments/run/", {"period": "2025-01"}),
        ("/housing/allocate/?case=" + str(case.pk), {"start": "2025-01-01"}),
    ):
        response = page.request.post(
            path, form={"csrfmiddlewaretoken": token, **form}, max_redirects=0
        )
        assert response.status == 403, (path, response.status)
        assert "Your role does not allow this." in response.text(), path
    page.reload()
    page.get_by_role("link", name="Notes", exact=True).click()
    expect(page.get_by_text("An auditor's note")).to_have_count(0)


# --- Burmese --------------------------------------------------------------------------------------

# English words of the interface that a Burmese page must not show. Data (case codes, user
# names, house names, "English" in the language menu) is not the interface and is not listed.
ENGLISH_WORDS = (
    "Cases",
    "Case",
    "Log out",
    "Log in",
    "Search",
    "Clear",
    "Occupancy board",
    "Waiting list",
    "Houses",
    "Batches",
    "Payments",
    "Audit trail",
    "Home",
    "Dashboard",
    "Status",
    "Stage",
    "Force",
    "Risk",
    "Weapons",
    "Summary",
    "Identity",
    "Family",
    "Items brought",
    "Verification",
    "Evidence",
    "History",
    "Total",
    "beds occupied",
    "free",
    "Bed",
    "Month",
    "Currency",
    "Lines",
    "Prepared by",
    "Username",
    "Password",
    "Language",
    "Change",
    "Skip to content",
)
CATALOGUE = Path(django_settings.BASE_DIR) / "locale" / "my" / "LC_MESSAGES" / "django.mo"


def english_on(page: Page) -> list[str]:
    text = page.locator("body").inner_text()
    return [word for word in ENGLISH_WORDS if re.search(rf"\b{re.escape(word)}\b", text)]


def test_key_pages_in_burmese_show_no_english_interface_words(page: Page, log_in, make_staff):
    officer = make_staff(Role.FINANCE_OFFICER)
    StipendPlanFactory()
    payment_services.disbursement_run(
        period=payment_services.month_of(timezone.localdate()), actor=officer
    )
    case = FamilyMemberFactory().case
    BedFactory(room=RoomFactory(house=HouseFactory()))
    missing_catalogue = (
        "" if CATALOGUE.exists() else f" There is no compiled Burmese catalogue at {CATALOGUE}."
    )

    log_in(make_staff(Role.AUDITOR))
    field(page, "Language").select_option("my")
    with page.expect_navigation() as switched:
        page.locator("form[action='/i18n/setlang/'] button[type=submit]").click()
    assert switched.value.ok, f"The language switch answered {switched.value.status}."
    language = page.locator("html").get_attribute("lang")
    assert language == "my", f"The language switch left the pages in {language}.{missing_catalogue}"

    found = {}
    for name, path in (
        ("case list", "/cases/"),
        ("case detail", f"/cases/{case.pk}/"),
        ("occupancy board", "/housing/"),
        ("batch list", "/payments/"),
    ):
        page.goto(path)
        found[name] = english_on(page)
    log_out(page)  # the language stays with the browser
    found["login page"] = english_on(page)

    untranslated = {name: words for name, words in found.items() if words}
    assert not untranslated, f"English words on Burmese pages: {untranslated}.{missing_catalogue}"
