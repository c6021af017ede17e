"""The housing admin: a house's address, contact and notes masked and read-only unless the
admin user may reveal them (and then logged); status read-only; houses, rooms and beds saved
through the services; allocations read-only; nothing deleted; search by code name and town."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessLog
from housing import services
from housing.models import Allocation, Bed, House, Room
from housing.services import Occupant
from tests.factories import BedFactory, HouseFactory, RoomFactory, VerifiedCaseFactory

pytestmark = pytest.mark.django_db

ADDRESS = "17 Hidden Tamarind Lane"
CONTACT = "Naw Eh Paw"
NOTES = "Key under the blue pot"
SECRETS = (ADDRESS, CONTACT, NOTES, "hv1:")

HOUSE_ADMIN_PERMISSIONS = tuple(
    f"housing.{action}_{model}"
    for model in ("house", "room", "bed", "allocation")
    for action in ("view", "add", "change", "delete")
)


def grant(user, *permissions: str):
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def plain_admin(make_staff):
    return grant(make_staff(Role.ADMINISTRATOR, is_staff=True), *HOUSE_ADMIN_PERMISSIONS)


@pytest.fixture
def revealing_admin(make_staff):
    return grant(
        make_staff(Role.ADMINISTRATOR, is_staff=True),
        *HOUSE_ADMIN_PERMISSIONS,
        "housing.reveal_address",
    )


@pytest.fixture
def house():
    return HouseFactory(
        code_name="Lotus", town="Mae Sot", address=ADDRESS, contact_person=CONTACT, notes=NOTES
    )


def change_url(obj) -> str:
    return reverse(f"admin:housing_{obj._meta.model_name}_change", args=[obj.pk])


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_house_is_masked_without_the_reveal_permission(login, plain_admin, house):
    page = page_of(login(plain_admin).get(change_url(house)))
    for secret in SECRETS:
        assert secret not in page
    assert "*****" in page
    assert 'name="address"' not in page
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


def test_house_in_clear_with_the_reveal_permission_is_logged(login, revealing_admin, house):
    page = page_of(login(revealing_admin).get(change_url(house)))
    assert ADDRESS in page and CONTACT in page
    assert "hv1:" not in page
    entry = AccessLog.objects.get(action=AccessLog.Action.REVEAL)
    assert entry.actor == revealing_admin and entry.target_label == "Lotus"
    assert entry.detail["via"] == "admin"


def test_changelist_search_by_code_name_and_town_shows_no_address(login, plain_admin, house):
    HouseFactory(code_name="Tamarind", town="Umphang")
    client = login(plain_admin)
    url = reverse("admin:housing_house_changelist")
    by_code = page_of(client.get(url, {"q": "lotus"}))
    assert "Lotus" in by_code and "Tamarind" not in by_code
    by_town = page_of(client.get(url, {"q": "umphang"}))
    assert "Tamarind" in by_town and "Lotus" not in by_town
    for secret in SECRETS:
        assert secret not in by_code


def test_filtering_on_an_encrypted_field_is_refused(login, plain_admin, house):
    response = login(plain_admin).get(
        reverse("admin:housing_house_changelist"), {"address__isnull": "False"}
    )
    # The admin answers a disallowed look-up with a redirect to "?e=1" or a 400, never data.
    assert response.status_code in (302, 400)


def test_plain_admin_edits_clear_details_and_the_address_is_kept(login, plain_admin, house):
    response = login(plain_admin).post(
        change_url(house),
        {"code_name": "Lotus", "town": "Umphang", "country": "TH", "_save": "Save"},
    )
    assert response.status_code == 302
    house = House.objects.get(pk=house.pk)
    assert house.town == "Umphang" and house.address == ADDRESS


def test_status_is_read_only(login, revealing_admin, house):
    client = login(revealing_admin)
    page = page_of(client.get(change_url(house)))
    assert 'name="status"' not in page
    client.post(
        change_url(house),
        {
            "code_name": "Lotus",
            "town": "Mae Sot",
            "country": "TH",
            "address": ADDRESS,
            "contact_person": CONTACT,
            "notes": NOTES,
            "status": "compromised",
            "_save": "Save",
        },
    )
    assert House.objects.get(pk=house.pk).status == "active"


def test_admin_adds_a_house_encrypted_through_the_service(login, plain_admin):
    response = login(plain_admin).post(
        reverse("admin:housing_house_add"),
        {
            "code_name": "Orchid",
            "town": "Mae Sot",
            "country": "TH",
            "address": ADDRESS,
            "contact_person": "",
            "notes": "",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    house = House.objects.get(code_name="Orchid")
    assert house.address == ADDRESS and house.contact_person is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM housing_house WHERE id = %s", [house.pk])
        assert cursor.fetchone()[0].startswith("hv1:")


def test_admin_adds_rooms_and_beds_and_takes_a_bed_out_of_use(login, plain_admin, house):
    client = login(plain_admin)
    client.post(reverse("admin:housing_room_add"), {"house": house.pk, "name": "Loft"})
    room = Room.objects.get(house=house, name="Loft")
    client.post(reverse("admin:housing_bed_add"), {"room": room.pk, "label": "B1"})
    bed = Bed.objects.get(room=room)
    assert bed.active
    response = client.post(change_url(bed), {"_save": "Save"})  # "active" unticked
    assert response.status_code == 302
    bed.refresh_from_db()
    assert not bed.active


def test_nothing_is_deleted_in_the_housing_admin(login, revealing_admin, house):
    client = login(revealing_admin)
    room = RoomFactory(house=house)
    bed = BedFactory(room=room)
    for obj in (house, room, bed):
        url = reverse(f"admin:housing_{obj._meta.model_name}_delete", args=[obj.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert House.objects.filter(pk=house.pk).exists()


def test_allocations_are_read_only(login, revealing_admin, make_staff):
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    allocation = services.allocation_create(
        actor=coordinator,
        occupant=Occupant(VerifiedCaseFactory()),
        bed=BedFactory(),
        start=timezone.localdate(),
    )
    client = login(revealing_admin)
    assert client.get(reverse("admin:housing_allocation_add")).status_code == 403
    page = page_of(client.get(change_url(allocation)))
    assert allocation.case.code in page
    assert 'name="_save"' not in page
    response = client.post(change_url(allocation), {"move_reason": "tampered", "_save": "Save"})
    assert response.status_code == 403
    delete = reverse("admin:housing_allocation_delete", args=[allocation.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert not Allocation.objects.get().move_reason


def test_allocation_search_by_case_code_and_house(login, revealing_admin, make_staff):
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    case = VerifiedCaseFactory()
    house = HouseFactory(code_name="Banyan", town="Umphang")
    services.allocation_create(
        actor=coordinator,
        occupant=Occupant(case),
        bed=BedFactory(room=RoomFactory(house=house)),
        start=timezone.localdate(),
    )
    client = login(revealing_admin)
    url = reverse("admin:housing_allocation_changelist")
    assert case.code in page_of(client.get(url, {"q": case.code}))
    assert case.code in page_of(client.get(url, {"q": "banyan"}))
    assert case.code not in page_of(client.get(url, {"q": "nowhere"}))


def test_a_room_name_taken_in_another_case_is_refused_in_words(login, make_staff, house):
    RoomFactory(house=house, name="Loft")
    admin = grant(make_staff(Role.ADMINISTRATOR, is_staff=True), "housing.add_room")
    response = login(admin).post(
        reverse("admin:housing_room_add"), {"house": house.pk, "name": "LOFT"}
    )
    page = page_of(response)
    assert "That room name is already used in this house." in page
    assert "room_name_unique_in_house_in_any_case" not in page
    assert Room.objects.filter(house=house).count() == 1
