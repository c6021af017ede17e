"""Creating and changing houses, rooms and beds: coordinators only, readable refusals, no bed
taken out of use while someone sleeps in it or is booked into it."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import Role
from housing import services
from housing.models import House
from housing.services import HousingError, Occupant, houses
from tests.factories import BedFactory, HouseFactory, RoomFactory, VerifiedCaseFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def coordinator(make_staff):
    return make_staff(Role.HOUSING_COORDINATOR)


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.AUDITOR, Role.ADMINISTRATOR])
def test_only_coordinators_change_the_estate(make_staff, role):
    actor = make_staff(role)
    house, room, bed = HouseFactory(), RoomFactory(), BedFactory()
    calls = [
        lambda: houses.house_create(
            actor=actor, code_name="X", town="Mae Sot", country="TH", address="1 Road"
        ),
        lambda: houses.house_update(house=house, actor=actor, town="Elsewhere"),
        lambda: houses.room_create(house=house, actor=actor, name="New"),
        lambda: houses.bed_create(room=room, actor=actor, label="New"),
        lambda: houses.bed_set_active(bed=bed, actor=actor, active=False),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert House.objects.count() == 3 and House.objects.get(pk=house.pk).town == "Mae Sot"


def test_code_names_are_unique_whatever_the_case(coordinator):
    HouseFactory(code_name="Lotus")
    with pytest.raises(HousingError, match="already called"):
        houses.house_create(
            actor=coordinator, code_name=" lotus ", town="Mae Sot", country="TH", address="1 Road"
        )


def test_a_name_raced_past_the_check_is_refused_by_the_database_with_a_message(
    coordinator, monkeypatch
):
    # As if another coordinator created "Lotus" between this one's check and save.
    HouseFactory(code_name="Lotus")
    monkeypatch.setattr(houses, "_check_code_name", lambda code_name, **kwargs: code_name)
    with pytest.raises(HousingError, match="already has that code name"):
        houses.house_create(
            actor=coordinator, code_name="LOTUS", town="Mae Sot", country="TH", address="1 Road"
        )
    assert House.objects.count() == 1
    room = RoomFactory(name="Loft")
    with pytest.raises(IntegrityError), transaction.atomic():
        RoomFactory(house=room.house, name="loft")
    BedFactory(room=room, label="B1")
    with pytest.raises(IntegrityError), transaction.atomic():
        BedFactory(room=room, label="b1")


def test_update_changes_only_what_is_given_and_clears_the_contact(coordinator):
    house = HouseFactory(address="1 Road", contact_person="Someone")
    houses.house_update(house=house, actor=coordinator, contact_person="")
    house = House.objects.get(pk=house.pk)
    assert house.contact_person is None and house.address == "1 Road"
    with pytest.raises(HousingError, match="without an address"):
        houses.house_update(house=house, actor=coordinator, address=" ")
    with pytest.raises(HousingError, match="cannot be changed here"):
        houses.house_update(house=house, actor=coordinator, status="closed")


def test_a_booked_bed_cannot_be_taken_out_of_use(coordinator):
    bed = BedFactory()
    services.allocation_create(
        actor=coordinator,
        occupant=Occupant(VerifiedCaseFactory()),
        bed=bed,
        start=TODAY + datetime.timedelta(days=5),
    )
    with pytest.raises(HousingError, match="move them first"):
        houses.bed_set_active(bed=bed, actor=coordinator, active=False)


def test_a_bed_free_since_yesterday_can_be_taken_out_of_use_and_back(coordinator):
    bed = BedFactory()
    services.allocation_create(
        actor=coordinator,
        occupant=Occupant(VerifiedCaseFactory()),
        bed=bed,
        start=TODAY - datetime.timedelta(days=5),
        end=TODAY,
    )
    assert not houses.bed_set_active(bed=bed, actor=coordinator, active=False).active
    with pytest.raises(HousingError, match="already out of use"):
        houses.bed_set_active(bed=bed, actor=coordinator, active=False)
    assert houses.bed_set_active(bed=bed, actor=coordinator, active=True).active


def test_room_and_bed_names_are_unique_in_their_place(coordinator):
    room = RoomFactory(name="Loft")
    with pytest.raises(HousingError, match="already has a room"):
        houses.room_create(house=room.house, actor=coordinator, name="LOFT")
    BedFactory(room=room, label="B1")
    with pytest.raises(HousingError, match="already has a bed"):
        houses.bed_create(room=room, actor=coordinator, label="b1")
