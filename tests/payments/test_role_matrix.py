"""Who may open which payment page: one table, role × URL name, for every URL of the payments
namespace. A new payments URL fails `test_every_payments_url_is_in_the_matrix` until someone
decides who may open it."""

from __future__ import annotations

import re

import pytest
from django.urls import resolve, reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessLog
from payments import services
from payments.models import DisbursementBatch, OneOffPayment, OneOffStatus, Payment, StipendPlan
from tests.factories import FundingSourceFactory, StipendPlanFactory, VerifiedCaseFactory
from tests.url_walker import walk

pytestmark = pytest.mark.django_db

INTAKE = Role.INTAKE_OFFICER
VERIFIER = Role.VERIFIER
MANAGER = Role.CASE_MANAGER
HOUSING = Role.HOUSING_COORDINATOR
FINANCE = Role.FINANCE_OFFICER
APPROVER = Role.FINANCE_APPROVER
AUDITOR = Role.AUDITOR
ADMINISTRATOR = Role.ADMINISTRATOR

FINANCE_READERS = {FINANCE, APPROVER, AUDITOR}
# The administrator role holds payments.view_finance_reports (for the reward policy work).
REPORT_READERS = FINANCE_READERS | {ADMINISTRATOR}

# URL name -> the roles that may open it; every other role gets 403.
ALLOWED: dict[str, set[str]] = {
    "payments:case_plans": FINANCE_READERS | {MANAGER},
    "payments:plan_status": {FINANCE},
    "payments:batches": FINANCE_READERS,
    "payments:run": {FINANCE},
    "payments:batch_detail": FINANCE_READERS,
    "payments:batch_approve": {APPROVER},
    "payments:record": {FINANCE},
    "payments:batch_close": {FINANCE},
    "payments:settlement": {FINANCE},
    "payments:take_for_payout": {FINANCE},
    "payments:plan_payout": {FINANCE},
    "payments:cases_without_plan": {FINANCE},
    "payments:carry_forward": {FINANCE},
    "payments:batch_pdf": FINANCE_READERS,
    "payments:batch_csv": FINANCE_READERS,
    "payments:batch_xlsx": FINANCE_READERS,
    "payments:one_offs": FINANCE_READERS,
    "payments:one_off_new": {FINANCE},
    "payments:one_off_detail": FINANCE_READERS,
    "payments:one_off_approve": {APPROVER},
    "payments:one_off_reject": {APPROVER},
    "payments:one_off_pay": {FINANCE},
    "payments:ledger": REPORT_READERS,
    "payments:dashboard": REPORT_READERS,
}

# Views that only take a POST: a permitted GET is answered 405, a forbidden one 403.
POST_ONLY = {
    "payments:plan_status",
    "payments:plan_payout",
    "payments:take_for_payout",
    "payments:carry_forward",
    "payments:one_off_approve",
    "payments:one_off_reject",
    "payments:one_off_pay",
}
# Exports are started by a POST too (and built in the background); they change no money.
EXPORTS = {"payments:batch_pdf", "payments:batch_csv", "payments:batch_xlsx"}

# Which object each URL's pk names.
PK_OF = {
    "payments:case_plans": "case",
    "payments:plan_status": "plan",
    "payments:plan_payout": "plan",
    "payments:carry_forward": "line",
    "payments:one_off_detail": "one_off",
    "payments:one_off_approve": "one_off",
    "payments:one_off_reject": "one_off",
    "payments:one_off_pay": "one_off",
}

# The URLs that change money: a POST from any other role is refused (and logged).
WRITERS: dict[str, set[str]] = {
    **{
        name: ALLOWED[name]
        for name in POST_ONLY
        | {
            "payments:run",
            "payments:batch_approve",
            "payments:record",
            "payments:one_off_new",
            "payments:batch_close",
            "payments:settlement",
        }
    },
    "payments:case_plans": {FINANCE},  # read by more roles; a plan is added by the officer
}


def payments_urls() -> dict[str, str]:
    return {walked.name: walked.url for walked in walk() if walked.name.startswith("payments:")}


def test_every_payments_url_is_in_the_matrix():
    names = set(payments_urls())
    assert names - set(ALLOWED) == set(), "decide who may open these payments URLs"
    assert set(ALLOWED) - names == set(), "these URLs no longer exist: remove them"


@pytest.fixture
def objects(make_staff):
    """A plan in a draft batch of this month, and a proposed one-off payment."""
    officer = make_staff(FINANCE)
    plan = StipendPlanFactory()
    (batch,) = services.disbursement_run(period=timezone.localdate().replace(day=1), actor=officer)
    one_off = services.one_off_propose(
        case=plan.case,
        actor=officer,
        kind="medical",
        amount="2500",
        currency="THB",
        funding_source=plan.funding_source,
    )
    return {
        "case": plan.case,
        "plan": plan,
        "batch": batch,
        "line": Payment.objects.get(batch=batch),
        "one_off": one_off,
    }


def concrete_url(name: str, sample: str, objects: dict) -> str:
    kwargs = resolve(sample.split("?")[0]).kwargs
    if "pk" in kwargs:
        kwargs = {"pk": objects[PK_OF.get(name, "batch")].pk}
    url = reverse(name, kwargs=kwargs)
    if name == "payments:one_off_new":
        url += f"?case={objects['case'].pk}"
    return url


def assert_no_inline_code(html: str, url: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {url}"
    assert " style=" not in html and "<style" not in html, f"inline style on {url}"


@pytest.mark.parametrize("role", Role.ALL)
def test_role_matrix(login, make_staff, objects, role):
    client = login(make_staff(role, is_staff=role == ADMINISTRATOR))
    wrong = []
    for name, sample in sorted(payments_urls().items()):
        url = concrete_url(name, sample, objects)
        response = client.get(url)
        if role in ALLOWED[name]:
            location = response.get("Location", "")
            if response.status_code == 200:
                if response["Content-Type"].startswith("text/html"):
                    assert_no_inline_code(response.content.decode(), url)
            elif name in POST_ONLY | EXPORTS and response.status_code == 405:
                continue
            elif response.status_code != 302 or location.startswith("/accounts/login/"):
                wrong.append(f"{name}: expected allowed, got {response.status_code} {location}")
        elif response.status_code != 403:
            wrong.append(f"{name}: expected 403, got {response.status_code}")
    assert wrong == [], f"{role}: " + "; ".join(wrong)


@pytest.mark.parametrize("role", Role.ALL)
def test_only_the_right_roles_may_post_changes(login, make_staff, objects, role):
    """The write URLs refuse a POST from every role not allowed to make the change, and nothing
    changes."""
    user = make_staff(role, is_staff=role == ADMINISTRATOR)
    client = login(user)
    urls = payments_urls()
    refused = sorted(name for name, roles in WRITERS.items() if role not in roles)
    for name in refused:
        response = client.post(concrete_url(name, urls[name], objects), {"action": "approve"})
        assert response.status_code == 403, f"{role} posted to {name}: {response.status_code}"
    # Each refused attempt to change money is in the access log.
    denied = AccessLog.objects.filter(action=AccessLog.Action.DENIED, actor=user)
    assert denied.count() == len(refused)
    assert StipendPlan.objects.get(pk=objects["plan"].pk).status == "active"
    assert DisbursementBatch.objects.get(pk=objects["batch"].pk).status == "draft"
    assert OneOffPayment.objects.get(pk=objects["one_off"].pk).status == OneOffStatus.PROPOSED


def test_navigation_follows_the_roles(login, make_staff):
    officer_page = login(make_staff(FINANCE)).get("/").content.decode()
    for url_name in ("payments:batches", "payments:dashboard"):
        assert f'href="{reverse(url_name)}"' in officer_page
    administrator_page = login(make_staff(ADMINISTRATOR)).get("/").content.decode()
    assert f'href="{reverse("payments:dashboard")}"' in administrator_page
    assert f'href="{reverse("payments:batches")}"' not in administrator_page
    for role in (INTAKE, VERIFIER, MANAGER, HOUSING):
        assert "/payments/" not in login(make_staff(role)).get("/").content.decode()


def test_case_page_links_to_the_plans_for_those_who_may_see_them(login, make_staff):
    case = VerifiedCaseFactory()
    FundingSourceFactory()
    link = f'href="{reverse("payments:case_plans", args=[case.pk])}"'
    manager_page = login(make_staff(MANAGER)).get(reverse("cases:detail", args=[case.pk]))
    assert link in manager_page.content.decode()
    intake_page = login(make_staff(INTAKE)).get(reverse("cases:detail", args=[case.pk]))
    assert link not in intake_page.content.decode()
