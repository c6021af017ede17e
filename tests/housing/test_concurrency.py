"""Twenty coordinators racing for the last free bed: exactly one gets it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.roles import Role
from housing import services
from housing.models import Allocation
from housing.services import Occupant
from tests.factories import BedFactory, VerifiedCaseFactory
from tests.racing import race

# serialized_rollback restores the roles that the data migrations made, after each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_twenty_requests_for_the_last_bed_produce_exactly_one_allocation(make_staff):
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    last_bed = BedFactory()
    cases = [VerifiedCaseFactory() for _ in range(20)]
    today = timezone.localdate()

    allocations, errors = race(
        [
            (
                lambda case=case: services.allocation_create(
                    actor=coordinator, occupant=Occupant(case), bed=last_bed, start=today
                )
            )
            for case in cases
        ]
    )
    assert len(allocations) == 1
    assert len(errors) == 19
    assert all(isinstance(error, services.BedNoLongerFreeError) for error in errors), errors
    assert "no longer free" in str(errors[0])
    assert Allocation.objects.filter(bed=last_bed).count() == 1


def test_the_same_person_raced_into_two_beds_gets_one(make_staff):
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    case = VerifiedCaseFactory()
    beds = [BedFactory() for _ in range(6)]
    today = timezone.localdate()
    allocations, errors = race(
        [
            (
                lambda bed=bed: services.allocation_create(
                    actor=coordinator, occupant=Occupant(case), bed=bed, start=today
                )
            )
            for bed in beds
        ]
    )
    assert len(allocations) == 1
    assert all(isinstance(error, services.HousingError) for error in errors)
    assert Allocation.objects.filter(case=case).count() == 1
