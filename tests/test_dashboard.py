"""The dashboard (the landing page): each role sees its own blocks and no other, the most urgent
first; the number of queries does not grow with the data; case codes only, never identity."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from housing.models import Allocation
from payments import services as payment_services
from tests.factories import (
    BedFactory,
    CaseFactory,
    FamilyMemberFactory,
    FundingSourceFactory,
    HouseFactory,
    RoomFactory,
    StipendPlanFactory,
    VerifiedCaseFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
DAY = datetime.timedelta(days=1)

SECRET_NAME = "Thiha Zaw Secretname"
SECRET_SERVICE_NUMBER = "BA-998877"
SECRET_CHILD = "Ma Khin Hiddenchild"
SECRET_ADDRESS = "99 Concealed Mango Lane"
SECRETS = (SECRET_NAME, SECRET_SERVICE_NUMBER, SECRET_CHILD, SECRET_ADDRESS, "hv1:")

BLOCKS = (
    "dashboard-no-role",
    "dashboard-alert-compromised",
    "dashboard-alert-emergencies",
    "dashboard-alert-batches",
    "dashboard-alert-one-offs",
    "dashboard-awaiting",
    "dashboard-verified",
    "dashboard-waiting",
    "dashboard-beds",
    "dashboard-batches",
    "dashboard-chart",
)

CASE_BLOCKS = {"dashboard-verified", "dashboard-chart", "dashboard-alert-emergencies"}
HOUSING_BLOCKS = {"dashboard-waiting", "dashboard-beds", "dashboard-alert-compromised"}

EXPECTED_BLOCKS = {
    Role.INTAKE_OFFICER: CASE_BLOCKS,
    Role.VERIFIER: CASE_BLOCKS | {"dashboard-awaiting"},
    Role.CASE_MANAGER: CASE_BLOCKS | HOUSING_BLOCKS | {"dashboard-awaiting"},
    Role.HOUSING_COORDINATOR: HOUSING_BLOCKS,
    Role.FINANCE_OFFICER: {"dashboard-batches"},
    Role.FINANCE_APPROVER: {
        "dashboard-batches",
        "dashboard-alert-batches",
        "dashboard-alert-one-offs",
    },
    # The journeys app has no block on the dashboard yet: its coordinators work from /journeys/.
    Role.JOURNEY_COORDINATOR: set(),
    Role.AUDITOR: CASE_BLOCKS | HOUSING_BLOCKS | {"dashboard-batches"},
    Role.ADMINISTRATOR: {"dashboard-verified", "dashboard-chart"},
}


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def blocks_in(page: str) -> set[str]:
    return {block for block in BLOCKS if f'id="{block}"' in page}


def block(page: str, block_id: str) -> str:
    """The markup of one block (up to the end of its section)."""
    return page.split(f'id="{block_id}"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def staff(make_staff):
    return {role: make_staff(role) for role in Role.ALL}


def build_world(staff, *, scale: int = 1) -> dict:
    """Something for every block: cases at each step, an emergency, a compromised house with
    an occupant, free beds, people waiting, this month's batch and a one-off awaiting approval.
    `scale` multiplies the rows (for the query-count test)."""
    intake_officer = staff[Role.INTAKE_OFFICER]
    verifier = staff[Role.VERIFIER]
    manager = staff[Role.CASE_MANAGER]
    coordinator = staff[Role.HOUSING_COORDINATOR]
    officer = staff[Role.FINANCE_OFFICER]
    world: dict = {
        "to_assign": [],
        "to_take": [],
        "to_verify": [],
        "to_decide": [],
        "emergencies": [],
    }
    for _number in range(scale):
        world["to_assign"].append(CaseFactory(intake_officer=intake_officer))
        world["to_take"].append(CaseFactory(intake_officer=intake_officer, verifier=verifier))
        world["to_verify"].append(
            CaseFactory(intake_officer=intake_officer, status="verifying", verifier=verifier)
        )
        world["to_decide"].append(
            CaseFactory(
                intake_officer=intake_officer,
                status="verifying",
                verifier=verifier,
                proposed_decision="verified",
                proposal_reason="Every check passed",
            )
        )
        world["emergencies"].append(
            CaseFactory(
                intake_officer=intake_officer, emergency=True, emergency_since=timezone.now()
            )
        )
        FamilyMemberFactory(case=VerifiedCaseFactory(decided_by=manager), needs_housing=True)

    # A proposal the manager took in: not theirs to decide.
    world["own_intake"] = CaseFactory(
        intake_officer=manager,
        status="verifying",
        verifier=verifier,
        proposed_decision="verified",
        proposal_reason="Every check passed",
    )
    # A closed emergency is no alert.
    world["withdrawn_emergency"] = CaseFactory(
        status="withdrawn", emergency=True, emergency_since=timezone.now()
    )

    for _number in range(scale):
        active = HouseFactory(address=SECRET_ADDRESS)
        for _room in range(2):
            room = RoomFactory(house=active)
            for _bed in range(3):
                BedFactory(room=room)
        compromised = HouseFactory(status="compromised", status_reason="Watched by informers")
        occupied_bed = BedFactory(room=RoomFactory(house=compromised))
        BedFactory(room=occupied_bed.room)
        Allocation.objects.create(
            bed=occupied_bed,
            case=VerifiedCaseFactory(),
            stay=DateTimeTZRange(timezone.now() - 3 * DAY, None, "[)"),
            checked_in_by=coordinator,
        )
    world["compromised"] = compromised

    source = FundingSourceFactory(name="Fictional Border Fund")
    for _number in range(scale):
        StipendPlanFactory(funding_source=source, created_by=officer)
    (world["batch"],) = payment_services.disbursement_run(period=THIS_MONTH, actor=officer)
    world["one_offs"] = [
        payment_services.one_off_propose(
            case=VerifiedCaseFactory(),
            actor=officer,
            kind="medical",
            amount="2500",
            currency="THB",
            funding_source=source,
        )
        for _number in range(scale)
    ]
    return world


# --- who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.ALL)
def test_each_role_sees_its_blocks_and_no_other(login, staff, role):
    build_world(staff)
    page = html(login(staff[role]).get(reverse("home")))
    assert blocks_in(page) == EXPECTED_BLOCKS[role]


def test_intake_officer_sees_no_housing_or_payments(login, staff):
    build_world(staff)
    page = html(login(staff[Role.INTAKE_OFFICER]).get("/"))
    assert "/housing/" not in page and "/payments/" not in page
    assert "awaiting your approval" not in page


def test_approver_sees_what_awaits_approval_but_no_case_alerts(login, staff):
    world = build_world(staff)
    page = html(login(staff[Role.FINANCE_APPROVER]).get("/"))
    batches = block(page, "dashboard-alert-batches")
    assert "1 batch awaiting your approval" in batches
    assert reverse("payments:batch_detail", args=[world["batch"].pk]) in batches
    one_offs = block(page, "dashboard-alert-one-offs")
    assert "1 one-off payment awaiting your approval" in one_offs
    assert world["one_offs"][0].case.code in one_offs
    assert "2,500.00 THB" in one_offs
    assert "emergency" not in page.lower()
    assert world["compromised"].code_name not in page
    assert "/cases/" not in page


def test_approver_is_not_asked_to_approve_what_they_already_approved(login, staff, make_staff):
    world = build_world(staff)
    one_off = world["one_offs"][0]
    one_off.required_approvals = 2
    one_off.save(update_fields=["required_approvals"])
    approver = staff[Role.FINANCE_APPROVER]
    payment_services.one_off_approve(one_off=one_off, actor=approver)
    page = html(login(approver).get("/"))
    assert "dashboard-alert-one-offs" not in page
    other = html(login(make_staff(Role.FINANCE_APPROVER)).get("/"))
    assert "1 of 2 approvals" in block(other, "dashboard-alert-one-offs")


def test_verifier_is_offered_intake_cases_and_their_own_verification(login, staff):
    world = build_world(staff)
    awaiting = block(html(login(staff[Role.VERIFIER]).get("/")), "dashboard-awaiting")
    assert world["to_take"][0].code in awaiting
    assert "Assigned to you: start verification" in awaiting
    # A case in intake that nobody assigned to this verifier is not theirs to take.
    assert world["to_assign"][0].code not in awaiting
    assert world["to_verify"][0].code in awaiting
    assert "Your verification" in awaiting
    # A proposal sent waits for a case manager, not for the verifier.
    assert world["to_decide"][0].code not in awaiting
    assert reverse("cases:detail", args=[world["to_take"][0].pk]) in awaiting


def test_case_manager_is_offered_proposals_they_may_decide_and_cases_needing_a_team(login, staff):
    world = build_world(staff)
    page = html(login(staff[Role.CASE_MANAGER]).get("/"))
    awaiting = block(page, "dashboard-awaiting")
    assert world["to_decide"][0].code in awaiting
    assert "Decision to take" in awaiting
    # New cases still without a team: the case manager names their verifier and case manager.
    assert world["to_assign"][0].code in awaiting and world["emergencies"][0].code in awaiting
    assert "Needs a team" in awaiting
    assert world["own_intake"].code not in awaiting
    # A case with its verifier but no case manager yet still waits for its team.
    assert world["to_take"][0].code in awaiting
    assert world["to_verify"][0].code not in awaiting
    assert re.search(r'<p class="fs-2 mb-2">4</p>', awaiting)


def test_alerts_name_the_emergency_and_the_compromised_house(login, staff):
    world = build_world(staff)
    page = html(login(staff[Role.CASE_MANAGER]).get("/"))
    emergencies = block(page, "dashboard-alert-emergencies")
    assert "1 open case flagged as an emergency" in emergencies
    assert world["emergencies"][0].code in emergencies
    assert world["withdrawn_emergency"].code not in page
    compromised = block(page, "dashboard-alert-compromised")
    assert world["compromised"].code_name in compromised
    assert "1 person to move" in compromised
    assert reverse("housing:house_detail", args=[world["compromised"].pk]) in compromised
    # The alerts come before the work and the figures.
    assert page.index("dashboard-alert-") < page.index('id="dashboard-awaiting"')
    assert page.index('id="dashboard-awaiting"') < page.index('id="dashboard-verified"')


def test_figures_of_housing_and_cases(login, staff):
    build_world(staff)
    page = html(login(staff[Role.AUDITOR]).get("/"))
    beds = block(page, "dashboard-beds")
    # Six empty beds in the active house; the compromised house's empty bed takes nobody.
    assert '<p class="fs-2 mb-1">6</p>' in beds
    assert "1 of 8 beds occupied (12&nbsp;%)" in beds
    waiting = block(page, "dashboard-waiting")
    assert "Longest wait" in waiting
    verified = block(page, "dashboard-verified")
    assert re.search(r'<p class="fs-2 mb-1">\d+</p>', verified)
    batches = block(page, "dashboard-batches")
    assert "Draft" in batches and "No batch for this month yet" not in batches
    chart = block(page, "dashboard-chart")
    assert 'id="dashboard-monthly-chart"' in chart and 'role="img"' in chart


def test_verified_this_month_counts_decisions_of_this_month_only(login, staff):
    VerifiedCaseFactory.create_batch(2)
    VerifiedCaseFactory(decided_at=timezone.now() - datetime.timedelta(days=40))
    verified = block(html(login(staff[Role.AUDITOR]).get("/")), "dashboard-verified")
    assert '<p class="fs-2 mb-1">2</p>' in verified


def test_finance_officer_is_told_when_the_month_has_no_batch(login, staff):
    page = html(login(staff[Role.FINANCE_OFFICER]).get("/"))
    batches = block(page, "dashboard-batches")
    assert "No batch for this month yet." in batches
    assert reverse("payments:run") in batches


def test_case_manager_sees_the_waiting_list_but_no_link_to_allocate(login, staff):
    build_world(staff)
    page = html(login(staff[Role.CASE_MANAGER]).get("/"))
    assert reverse("housing:waiting_list") not in page
    coordinator_page = html(login(staff[Role.HOUSING_COORDINATOR]).get("/"))
    assert reverse("housing:waiting_list") in block(coordinator_page, "dashboard-waiting")


def test_user_without_a_role_is_asked_to_see_an_administrator(login, make_staff):
    page = html(login(make_staff()).get("/"))
    assert blocks_in(page) == {"dashboard-no-role"}
    assert "Ask an administrator" in page


def test_nothing_urgent_is_said_calmly(login, staff):
    page = html(login(staff[Role.AUDITOR]).get("/"))
    assert "Nothing urgent right now." in page
    assert "dashboard-alert-" not in page


# --- safety and speed ---------------------------------------------------------------------------


def test_no_protected_value_appears_on_any_dashboard(login, staff, make_staff):
    build_world(staff)
    case = CaseFactory(
        real_name=SECRET_NAME,
        service_number=SECRET_SERVICE_NUMBER,
        emergency=True,
        emergency_since=timezone.now(),
    )
    FamilyMemberFactory(case=VerifiedCaseFactory(real_name=SECRET_NAME), name=SECRET_CHILD)
    everyone = make_staff(*Role.ALL)
    for user in [*staff.values(), everyone]:
        page = html(login(user).get("/"))
        for secret in SECRETS:
            assert secret not in page, f"{secret!r} on the dashboard of {user.username}"
    assert case.code in page


def test_dashboard_obeys_the_content_security_policy(login, staff, make_staff):
    build_world(staff)
    page = html(login(make_staff(*Role.ALL)).get("/"))
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
    assert " style=" not in page and "<style" not in page, "inline style"


def dashboard_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    return len(queries), html(response)


def test_query_count_does_not_grow_with_the_data(
    login, staff, make_staff, django_assert_max_num_queries
):
    everyone = make_staff(*Role.ALL)
    client = login(everyone)
    client.get("/")  # the session settles on the first page
    build_world(staff, scale=1)
    small, page = dashboard_queries(client)
    assert blocks_in(page) == set(BLOCKS) - {"dashboard-no-role"}

    build_world(staff, scale=8)
    with django_assert_max_num_queries(small):
        large, page = dashboard_queries(client)
    assert large == small
    assert "and 4 more" in block(page, "dashboard-alert-emergencies")


def test_a_preview_counts_every_row_in_one_query_grouped_or_not(django_assert_num_queries):
    from django.db.models import Count

    from cases.models import Case
    from config.dashboard import PREVIEW_SIZE, preview

    cases = CaseFactory.create_batch(PREVIEW_SIZE + 2)
    FamilyMemberFactory(case=cases[0])
    FamilyMemberFactory(case=cases[0])
    ordered = Case.objects.order_by("pk")
    with django_assert_num_queries(1):
        shown = preview(ordered)
    assert shown.count == PREVIEW_SIZE + 2 and shown.more == 2
    assert [case.pk for case in shown.first] == [case.pk for case in cases[:PREVIEW_SIZE]]
    # Grouped (an aggregate per case): the window counts cases, not family members.
    grouped = ordered.annotate(members=Count("family_members"))
    with django_assert_num_queries(1):
        shown = preview(grouped)
    assert shown.count == PREVIEW_SIZE + 2 and shown.first[0].members == 2
    # DISTINCT comes after a window: counted apart, without the duplicates.
    joined = Case.objects.filter(family_members__isnull=False).order_by("pk").distinct()
    assert preview(joined).count == 1
    # Rows of values() and a UNION carry no window: counted apart, as many.
    assert preview(ordered.values("pk")).count == PREVIEW_SIZE + 2
    assert preview(ordered.union(ordered)).count == PREVIEW_SIZE + 2
    assert preview(Case.objects.none()).count == 0
    with django_assert_num_queries(1):
        assert preview(Case.objects.filter(pk=-1)).count == 0
