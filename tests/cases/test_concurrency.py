"""Races that could break the case rules, raced for real on PostgreSQL with threads."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.utils import timezone

from accounts.roles import Role
from cases import services
from cases.choices import CheckResult, Status
from cases.models import Case, VerificationCheck
from tests.factories import assign_verifier
from tests.racing import race

# serialized_rollback restores the roles that the data migrations made, after each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_parallel_intakes_get_distinct_consecutive_codes(make_staff):
    officer = make_staff(Role.INTAKE_OFFICER)
    count = 12

    def intake(number: int) -> Callable[[], Case]:
        return lambda: services.case_intake(
            actor=officer,
            real_name=f"Fictional Person {number}",
            service_number=f"RACE-{number}",
            contact_date=timezone.localdate(),
            channel="phone",
            region="yangon",
            force="police",
        )

    cases, errors = race([intake(number) for number in range(count)])
    assert errors == []
    year = timezone.localdate().year
    assert sorted(case.code for case in cases) == [
        f"HV-{year}-{number:05d}" for number in range(1, count + 1)
    ]


def test_same_service_number_raced_is_recorded_once(make_staff):
    officer = make_staff(Role.INTAKE_OFFICER)

    def intake(number: int) -> Callable[[], Case]:
        return lambda: services.case_intake(
            actor=officer,
            real_name=f"Fictional Person {number}",
            service_number="SAME-777",
            contact_date=timezone.localdate(),
            channel="phone",
            region="yangon",
            force="police",
        )

    cases, errors = race([intake(number) for number in range(6)])
    # Intakes wait for each other on the code counter, so each sees the committed ones before it.
    assert len(cases) == 1
    assert all(isinstance(error, services.DuplicateCaseError) for error in errors)


def test_two_case_managers_deciding_at_once_produce_one_decision(make_staff):
    officer, verifier = make_staff(Role.INTAKE_OFFICER), make_staff(Role.VERIFIER)
    managers = [make_staff(Role.CASE_MANAGER) for _ in range(4)]
    case = services.case_intake(
        actor=officer,
        real_name="Fictional Person",
        contact_date=timezone.localdate() - datetime.timedelta(days=3),
        channel="phone",
        region="yangon",
        force="police",
    )
    case = services.case_start_verification(case=assign_verifier(case, verifier), actor=verifier)
    for check in VerificationCheck.objects.filter(case=case):
        services.verification_check_record(check=check, actor=verifier, result=CheckResult.PASSED)

    decisions, errors = race(
        [
            (
                lambda manager=manager, decision=decision: services.case_decide(
                    case=case, actor=manager, decision=decision, reason="Raced"
                )
            )
            for manager, decision in zip(
                managers, [Status.VERIFIED, Status.REJECTED] * 2, strict=True
            )
        ]
    )
    assert len(decisions) == 1
    assert len(errors) == 3 and all(isinstance(error, services.CaseError) for error in errors)
    case.refresh_from_db()
    assert case.status == decisions[0].status
    assert case.decided_by == decisions[0].decided_by
