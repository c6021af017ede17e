"""Need-to-know under a race: one person revealing several records at the same moment cannot
pass their day's budget, two case managers adding the same person put them on the team once,
and two reviewers closing the same break-the-glass record one review."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from accounts.roles import Role
from accounts.services import protected_field_reveal
from audit.models import AccessLog
from cases import services
from cases.models import BreakGlass, CaseTeamMember
from tests.factories import CaseFactory, add_to_team
from tests.racing import race

# serialized_rollback restores the roles that the data migrations made, after each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_reveals_at_the_same_moment_cannot_pass_the_budget(make_staff, settings):
    settings.HAVEN_REVEAL_BUDGET_PER_DAY = 2
    verifier = make_staff(Role.VERIFIER)
    cases = [add_to_team(CaseFactory(), verifier) for _ in range(5)]

    def reveal(case):
        return lambda: protected_field_reveal(actor=verifier, obj=case, field_name="real_name")

    results, errors = race([reveal(case) for case in cases])

    assert len(results) == 2 and len(errors) == 3
    assert all(isinstance(error, PermissionDenied) for error in errors)
    revealed = AccessLog.objects.filter(actor=verifier, action=AccessLog.Action.REVEAL)
    assert revealed.values("target_id").distinct().count() == 2


def test_two_case_managers_adding_the_same_person_add_them_once(make_staff):
    first, second = make_staff(Role.CASE_MANAGER), make_staff(Role.CASE_MANAGER)
    verifier = make_staff(Role.VERIFIER)
    case = CaseFactory()

    def add(manager):
        return lambda: services.case_team_add(case=case, actor=manager, user=verifier)

    results, errors = race([add(first), add(second)])

    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], services.CaseError)
    assert CaseTeamMember.objects.filter(case=case, user=verifier).count() == 1


def test_two_reviews_of_one_break_the_glass_record_one(make_staff):
    case = CaseFactory()
    use = services.break_glass_open(
        case=case, actor=make_staff(Role.VERIFIER), reason="danger", why="Tonight"
    )
    reviewers = [make_staff(Role.ADMINISTRATOR), make_staff(Role.ADMINISTRATOR)]

    def review(reviewer):
        return lambda: services.break_glass_review(use=use, actor=reviewer, outcome="justified")

    results, errors = race([review(reviewer) for reviewer in reviewers])

    assert len(results) == 1 and len(errors) == 1
    use = BreakGlass.objects.get()
    assert use.reviewed_by == results[0].reviewed_by
    assert AccessLog.objects.filter(action=AccessLog.Action.GLASS_REVIEWED).count() == 1


def test_look_ups_at_the_same_moment_cannot_pass_the_hourly_limit(make_staff, settings):
    from cases.services.lookups import LookupRefused, protected_lookup

    settings.HAVEN_LOOKUP_LIMIT_PER_HOUR = 2
    manager = make_staff(Role.CASE_MANAGER)

    results, errors = race(
        [lambda: protected_lookup(actor=manager, kind="case search") for _ in range(5)]
    )

    assert len(results) == 2 and len(errors) == 3
    assert all(isinstance(error, LookupRefused) for error in errors)
    assert AccessLog.objects.filter(actor=manager, action=AccessLog.Action.LOOKUP).count() == 2
