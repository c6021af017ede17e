"""The waiting list at scale: PostgreSQL orders, counts and pages it, by the rule of SPEC.md
(verified cases without a bed, by priority: risk, urgency, date; emergencies first), the same
on every page as the rule says for the whole list."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from housing import selectors
from housing.models import Allocation
from tests.factories import BedFactory, CaseFactory, FamilyMemberFactory, VerifiedCaseFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
RISK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
URGENCY = {"immediate": 0, "urgent": 1, "routine": 2}


def house(case, *, family_member=None, coordinator) -> None:
    Allocation.objects.create(
        bed=BedFactory(),
        case=case,
        family_member=family_member,
        stay=DateTimeTZRange(timezone.now() - 2 * DAY, None, "[)"),
        checked_in_by=coordinator,
    )


def people_by_the_rule(cases, members) -> list[str]:
    """SPEC.md's order, written out: emergencies, risk, urgency, the day the wait began (the
    decision), the case code; a case's person before its family members."""

    def key(case, member):
        since = timezone.localdate(case.decided_at)
        return (
            not case.emergency,
            RISK[case.risk_level],
            URGENCY[case.urgency],
            since,
            case.code,
            member.pk if member else 0,
        )

    people = [(case, None) for case in cases] + [(member.case, member) for member in members]
    people.sort(key=lambda person: key(*person))
    return [case.code if member is None else f"{case.code}/F{member.pk}" for case, member in people]


@pytest.fixture
def crowd(make_staff):
    """Every combination of risk, urgency and wait, where each key decides some pairs: cases
    alike but for one key, an emergency of low risk, ties on everything but the code, family
    members waiting (or housed, or needing no bed) and people housed today."""
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    now = timezone.now()
    waiting_cases, waiting_members = [], []
    combinations = itertools.product(RISK, URGENCY, (60, 40, 20, 3))
    for number, (risk, urgency, days_ago) in enumerate(combinations):
        case = VerifiedCaseFactory(
            risk_level=risk,
            urgency=urgency,
            decided_at=now - days_ago * DAY,
            code=f"HV-2024-{90000 - number:05d}",  # codes run against the order of creation
        )
        waiting_cases.append(case)
        if number % 4 == 0:
            waiting_members.append(FamilyMemberFactory(case=case))
        if number % 5 == 0:
            FamilyMemberFactory(case=case, needs_housing=False)
        if number % 7 == 0:
            housed_member = FamilyMemberFactory(case=case)
            house(case, family_member=housed_member, coordinator=coordinator)
    # Two cases equal on every key but their code, decided the same minute.
    for code in ("HV-2024-00002", "HV-2024-00001"):
        waiting_cases.append(
            VerifiedCaseFactory(code=code, risk_level="high", urgency="urgent", decided_at=now)
        )
    emergency = VerifiedCaseFactory(
        risk_level="low", urgency="routine", emergency=True, emergency_since=now, decided_at=now
    )
    waiting_cases.append(emergency)
    # Housed today, with a family member still waiting.
    housed = VerifiedCaseFactory(risk_level="critical", urgency="immediate")
    house(housed, coordinator=coordinator)
    waiting_members.append(FamilyMemberFactory(case=housed))
    # Not waiting: not verified, or moved on.
    CaseFactory(risk_level="critical")
    VerifiedCaseFactory(risk_level="critical", journey_stage="resettled")
    return people_by_the_rule(waiting_cases, waiting_members)


def test_waiting_list_is_in_the_order_of_the_rule(crowd):
    labels = [entry.label for entry in selectors.waiting_list()]
    assert labels == crowd
    assert len(crowd) > 50


def test_every_page_continues_the_order_of_the_one_before(crowd):
    paginator = Paginator(selectors.waiting_list(), 7)
    assert paginator.count == len(crowd)
    labels = [
        entry.label
        for number in paginator.page_range
        for entry in paginator.page(number).object_list
    ]
    assert labels == crowd


def test_count_and_longest_wait_are_the_whole_lists(crowd):
    waiting = selectors.waiting_list()
    assert waiting.count() == len(crowd)
    assert waiting.longest_wait_days() == 60


def test_waiting_page_shows_one_page_and_the_whole_count(crowd, login, make_staff):
    client = login(make_staff(Role.HOUSING_COORDINATOR))
    page = client.get(reverse("housing:waiting_list")).content.decode()
    assert f"{len(crowd)} people waiting" in page
    assert crowd[0] in page and crowd[49] in page and crowd[50] not in page
    second = client.get(reverse("housing:waiting_list") + "?page=2").content.decode()
    assert crowd[50] in second and crowd[0] not in second


def test_one_case_s_people_are_found_without_the_rest(crowd):
    first = selectors.waiting_list()[0]
    with CaptureQueriesContext(connection) as queries:
        mine = list(selectors.waiting_list(case=first.case))
    assert {entry.case for entry in mine} == {first.case}
    assert [entry.label for entry in mine] == [
        label for label in crowd if label.split("/")[0] == first.case.code
    ]
    assert len(queries) <= 3
