"""Allocation rules: never a double-booked bed, never one person in two beds, all-or-nothing
households, transfers that cannot half-happen, and compromised houses that take nobody."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from accounts.roles import Role
from housing import selectors, services
from housing.models import Allocation, HouseStatus
from housing.services import Occupant
from tests.factories import (
    BedFactory,
    CaseFactory,
    FamilyMemberFactory,
    HouseFactory,
    RoomFactory,
    VerifiedCaseFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def stay(start: datetime.date, end: datetime.date | None = None) -> DateTimeTZRange:
    """Days as the moments a stay holds: each day's midnight in Haven's time zone."""
    return DateTimeTZRange(
        datetime.datetime.combine(start, datetime.time.min, tzinfo=timezone.get_default_timezone()),
        datetime.datetime.combine(end, datetime.time.min, tzinfo=timezone.get_default_timezone())
        if end
        else None,
        "[)",
    )


def day_of(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(moment).date() if moment else None


@pytest.fixture
def coordinator(make_staff):
    return make_staff(Role.HOUSING_COORDINATOR)


def test_allocation_of_a_verified_case(coordinator):
    case, bed = VerifiedCaseFactory(), BedFactory()
    allocation = services.allocation_create(
        actor=coordinator, occupant=Occupant(case), bed=bed, start=TODAY
    )
    assert day_of(allocation.stay.lower) == TODAY and allocation.stay.upper is None
    assert list(selectors.current_allocations()) == [allocation]


@pytest.mark.parametrize(
    "role", [Role.CASE_MANAGER, Role.AUDITOR, Role.FINANCE_OFFICER, Role.INTAKE_OFFICER]
)
def test_only_housing_coordinators_allocate(make_staff, role):
    with pytest.raises(PermissionDenied):
        services.allocation_create(
            actor=make_staff(role),
            occupant=Occupant(VerifiedCaseFactory()),
            bed=BedFactory(),
            start=TODAY,
        )


def test_bed_cannot_be_double_booked(coordinator):
    bed = BedFactory()
    services.allocation_create(
        actor=coordinator, occupant=Occupant(VerifiedCaseFactory()), bed=bed, start=TODAY
    )
    with pytest.raises(services.BedNoLongerFreeError, match="no longer free"):
        services.allocation_create(
            actor=coordinator,
            occupant=Occupant(VerifiedCaseFactory()),
            bed=bed,
            start=TODAY + 5 * DAY,
        )
    assert Allocation.objects.count() == 1


def test_a_bed_is_free_again_on_the_check_out_day(coordinator):
    bed = BedFactory()
    first = services.allocation_create(
        actor=coordinator,
        occupant=Occupant(VerifiedCaseFactory()),
        bed=bed,
        start=TODAY - 10 * DAY,
        end=TODAY,
    )
    second = services.allocation_create(
        actor=coordinator, occupant=Occupant(VerifiedCaseFactory()), bed=bed, start=TODAY
    )
    assert first.stay.upper <= second.stay.lower


def test_person_cannot_hold_two_beds(coordinator):
    case = VerifiedCaseFactory()
    services.allocation_create(
        actor=coordinator, occupant=Occupant(case), bed=BedFactory(), start=TODAY
    )
    with pytest.raises(services.HousingError, match="already has a bed"):
        services.allocation_create(
            actor=coordinator, occupant=Occupant(case), bed=BedFactory(), start=TODAY + DAY
        )


def test_family_members_are_separate_people(coordinator):
    member = FamilyMemberFactory()
    services.allocation_create(
        actor=coordinator, occupant=Occupant(member.case), bed=BedFactory(), start=TODAY
    )
    services.allocation_create(
        actor=coordinator, occupant=Occupant(member.case, member), bed=BedFactory(), start=TODAY
    )
    with pytest.raises(services.HousingError, match="already has a bed"):
        services.allocation_create(
            actor=coordinator, occupant=Occupant(member.case, member), bed=BedFactory(), start=TODAY
        )


@pytest.mark.parametrize("write", ["create", "update"])
def test_exclusion_constraints_hold_against_raw_orm_writes(coordinator, write):
    bed, other_bed = BedFactory(), BedFactory()
    case = VerifiedCaseFactory()
    Allocation.objects.create(bed=bed, case=case, stay=stay(TODAY), checked_in_by=coordinator)
    with pytest.raises(IntegrityError, match="bed_never_double_booked"), transaction.atomic():
        if write == "create":
            Allocation.objects.create(
                bed=bed,
                case=VerifiedCaseFactory(),
                stay=stay(TODAY + DAY, TODAY + 3 * DAY),
                checked_in_by=coordinator,
            )
        else:
            moved = Allocation.objects.create(
                bed=other_bed,
                case=VerifiedCaseFactory(),
                stay=stay(TODAY),
                checked_in_by=coordinator,
            )
            Allocation.objects.filter(pk=moved.pk).update(bed=bed)
    with pytest.raises(IntegrityError, match="person_in_one_bed_at_a_time"), transaction.atomic():
        Allocation.objects.create(
            bed=other_bed, case=case, stay=stay(TODAY - DAY), checked_in_by=coordinator
        )


@pytest.mark.parametrize(
    ("make_bed", "make_case", "message"),
    [
        (lambda: BedFactory(active=False), VerifiedCaseFactory, "not in use"),
        (
            lambda: BedFactory(
                room=RoomFactory(house=HouseFactory(status="closed", status_reason="Lease ended"))
            ),
            VerifiedCaseFactory,
            "closed",
        ),
        (
            lambda: BedFactory(
                room=RoomFactory(house=HouseFactory(status="compromised", status_reason="Seen"))
            ),
            VerifiedCaseFactory,
            "compromised",
        ),
        (BedFactory, CaseFactory, "not verified"),
    ],
)
def test_bad_allocations_are_refused_and_save_nothing(coordinator, make_bed, make_case, message):
    with pytest.raises(services.HousingError, match=message):
        services.allocation_create(
            actor=coordinator, occupant=Occupant(make_case()), bed=make_bed(), start=TODAY
        )
    assert not Allocation.objects.exists()


def test_end_before_start_is_refused(coordinator):
    with pytest.raises(services.HousingError, match="after its start"):
        services.allocation_create(
            actor=coordinator,
            occupant=Occupant(VerifiedCaseFactory()),
            bed=BedFactory(),
            start=TODAY,
            end=TODAY - DAY,
        )


def test_household_is_allocated_all_or_nothing(coordinator):
    member_one = FamilyMemberFactory()
    case = member_one.case
    member_two = FamilyMemberFactory(case=case)
    room = RoomFactory()
    beds = [BedFactory(room=room) for _ in range(3)]
    services.allocation_create(
        actor=coordinator, occupant=Occupant(VerifiedCaseFactory()), bed=beds[2], start=TODAY
    )
    placements = [
        (Occupant(case), beds[0]),
        (Occupant(case, member_one), beds[1]),
        (Occupant(case, member_two), beds[2]),
    ]
    with pytest.raises(services.BedNoLongerFreeError):
        services.household_allocate(actor=coordinator, placements=placements, start=TODAY)
    assert not Allocation.objects.filter(case=case).exists()
    placements[2] = (Occupant(case, member_two), BedFactory(room=room))
    created = services.household_allocate(actor=coordinator, placements=placements, start=TODAY)
    assert len(created) == 3


def test_household_needs_one_bed_each(coordinator):
    member = FamilyMemberFactory()
    bed = BedFactory()
    with pytest.raises(services.HousingError, match="bed of their own"):
        services.household_allocate(
            actor=coordinator,
            placements=[(Occupant(member.case), bed), (Occupant(member.case, member), bed)],
            start=TODAY,
        )


def test_transfer_moves_the_person_in_one_step(coordinator):
    case = VerifiedCaseFactory()
    old_bed, new_bed = (
        BedFactory(),
        BedFactory(room=RoomFactory(house=HouseFactory(town="Umphang"))),
    )
    first = services.allocation_create(
        actor=coordinator, occupant=Occupant(case), bed=old_bed, start=TODAY - 7 * DAY
    )
    moved = services.allocation_transfer(
        allocation=first, actor=coordinator, to_bed=new_bed, reason="Closer to clinic"
    )
    first.refresh_from_db()
    assert day_of(first.stay.upper) == TODAY and first.checked_out_by == coordinator
    assert (
        moved.bed == new_bed
        and moved.stay.lower == first.stay.upper
        and moved.move_reason == "Closer to clinic"
    )
    assert [allocation.bed for allocation in selectors.person_history(case=case)] == [
        old_bed,
        new_bed,
    ]


def test_failed_transfer_leaves_the_person_in_the_old_bed(coordinator):
    case = VerifiedCaseFactory()
    old_bed, taken_bed = BedFactory(), BedFactory()
    first = services.allocation_create(
        actor=coordinator, occupant=Occupant(case), bed=old_bed, start=TODAY - 7 * DAY
    )
    services.allocation_create(
        actor=coordinator,
        occupant=Occupant(VerifiedCaseFactory()),
        bed=taken_bed,
        start=TODAY - DAY,
    )
    with pytest.raises(services.BedNoLongerFreeError):
        services.allocation_transfer(
            allocation=first, actor=coordinator, to_bed=taken_bed, reason="Move"
        )
    first.refresh_from_db()
    assert first.stay.upper is None
    assert first.checked_out_by is None
    assert list(selectors.current_allocations().filter(case=case)) == [first]


def test_check_out(coordinator):
    allocation = services.allocation_create(
        actor=coordinator,
        occupant=Occupant(VerifiedCaseFactory()),
        bed=BedFactory(),
        start=TODAY - 3 * DAY,
    )
    services.allocation_check_out(allocation=allocation, actor=coordinator)
    allocation.refresh_from_db()
    assert day_of(allocation.stay.upper) == TODAY
    with pytest.raises(services.HousingError, match="already ended"):
        services.allocation_check_out(allocation=allocation, actor=coordinator)
    assert not selectors.current_allocations().exists()


def test_compromised_house_takes_nobody_and_lists_occupants_by_risk(coordinator):
    house = HouseFactory()
    room = RoomFactory(house=house)
    low = VerifiedCaseFactory(risk_level="low")
    critical = VerifiedCaseFactory(risk_level="critical")
    high = VerifiedCaseFactory(risk_level="high")
    for case in (low, critical, high):
        services.allocation_create(
            actor=coordinator, occupant=Occupant(case), bed=BedFactory(room=room), start=TODAY - DAY
        )
    spare = BedFactory(room=room)
    relocation = services.house_mark_compromised(
        house=house, actor=coordinator, reason="Watched by informers"
    )
    assert [allocation.case for allocation in relocation] == [critical, high, low]
    house.refresh_from_db()
    assert house.status == HouseStatus.COMPROMISED and house.status_changed_by == coordinator
    with pytest.raises(services.HousingError, match="compromised"):
        services.allocation_create(
            actor=coordinator, occupant=Occupant(VerifiedCaseFactory()), bed=spare, start=TODAY
        )
    with pytest.raises(services.HousingError, match="already marked"):
        services.house_mark_compromised(house=house, actor=coordinator, reason="Again")
    services.house_set_status(
        house=house, actor=coordinator, status=HouseStatus.ACTIVE, reason="Checked and safe"
    )
    services.allocation_create(
        actor=coordinator, occupant=Occupant(VerifiedCaseFactory()), bed=spare, start=TODAY
    )


def test_house_with_occupants_cannot_be_closed(coordinator):
    bed = BedFactory()
    services.allocation_create(
        actor=coordinator, occupant=Occupant(VerifiedCaseFactory()), bed=bed, start=TODAY
    )
    with pytest.raises(services.HousingError, match="still staying"):
        services.house_set_status(
            house=bed.room.house, actor=coordinator, status=HouseStatus.CLOSED, reason="Lease"
        )


def test_waiting_list_orders_by_emergency_risk_urgency_and_wait(coordinator):
    housed = VerifiedCaseFactory()
    services.allocation_create(
        actor=coordinator, occupant=Occupant(housed), bed=BedFactory(), start=TODAY
    )
    old_low = VerifiedCaseFactory(risk_level="low", decided_at=timezone.now() - 30 * DAY)
    new_high = VerifiedCaseFactory(risk_level="high")
    emergency = VerifiedCaseFactory(
        risk_level="low", emergency=True, emergency_since=timezone.now()
    )
    child = FamilyMemberFactory(case=new_high)
    FamilyMemberFactory(case=new_high, needs_housing=False)
    CaseFactory()  # not verified: not waiting
    labels = [entry.label for entry in selectors.waiting_list()]
    assert labels == [emergency.code, new_high.code, f"{new_high.code}/F{child.pk}", old_low.code]


def test_bed_nights_count_each_night_in_its_month(coordinator):
    this_month = TODAY.replace(day=1)
    last_month = (this_month - DAY).replace(day=1)
    month_before = (last_month - DAY).replace(day=1)
    # From the 25th of the month before last to the 3rd of last month (checked out that day).
    start, end = month_before.replace(day=25), last_month.replace(day=3)
    services.allocation_create(
        actor=coordinator,
        occupant=Occupant(VerifiedCaseFactory()),
        bed=BedFactory(),
        start=start,
        end=end,
    )
    rows = selectors.bed_nights_per_month(date_from=month_before, date_to=TODAY)
    assert {(row.month, row.nights) for row in rows} == {
        (month_before, (last_month - start).days),
        (last_month, 2),
    }


def test_people_who_moved_on_wait_for_no_bed():
    waiting = VerifiedCaseFactory(journey_stage="arrived")
    VerifiedCaseFactory(journey_stage="resettled")
    VerifiedCaseFactory(journey_stage="lost_contact")
    assert [entry.case for entry in selectors.waiting_list()] == [waiting]


def test_a_compromised_house_is_on_the_dashboard_summary_at_once_while_totals_are_shared(
    coordinator, settings
):
    """The bed totals are shared for a minute; the compromised houses, an alert, are not."""
    from django.core.cache import cache

    settings.HAVEN_FIGURES_CACHE_SECONDS = 60
    cache.delete("figures:housing:occupancy-totals")
    house = HouseFactory()
    bed = BedFactory(room=RoomFactory(house=house))
    services.allocation_create(
        actor=coordinator, occupant=Occupant(VerifiedCaseFactory()), bed=bed, start=TODAY - DAY
    )
    before = selectors.occupancy_summary()
    assert before.compromised == []
    services.house_mark_compromised(house=house, actor=coordinator, reason="Watched by informers")
    after = selectors.occupancy_summary()
    assert [entry.house.pk for entry in after.compromised] == [house.pk]
    assert after.compromised[0].occupied == 1
    assert (after.beds, after.occupied) == (before.beds, before.occupied)
    cache.delete("figures:housing:occupancy-totals")
