"""Who may open which housing page: one table, role × URL name, for every URL of the housing
namespace. A new housing URL fails `test_every_housing_url_is_in_the_matrix` until someone
decides who may open it."""

from __future__ import annotations

import re

import pytest
from django.urls import resolve, reverse
from django.utils import timezone

from accounts.roles import Role
from housing import services
from housing.services import Occupant
from tests.factories import BedFactory, HouseFactory, RoomFactory, VerifiedCaseFactory
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

READERS = {HOUSING, MANAGER, AUDITOR}

# URL name -> the roles that may open it; every other role gets 403.
ALLOWED: dict[str, set[str]] = {
    "housing:board": READERS,
    "housing:waiting_list": READERS,
    "housing:case_history": READERS,
    "housing:houses": READERS,
    "housing:house_detail": READERS,
    "housing:reports": READERS | {ADMINISTRATOR},
    "housing:reports_export": READERS | {ADMINISTRATOR},
    "housing:allocate": {HOUSING},
    "housing:check_out": {HOUSING},
    "housing:transfer": {HOUSING},
    "housing:household_move": {HOUSING},
    "housing:undo": {HOUSING},
    "housing:house_create": {HOUSING},
    "housing:house_edit": {HOUSING},
    "housing:house_reveal": {HOUSING},
    "housing:room_create": {HOUSING},
    "housing:bed_create": {HOUSING},
    "housing:bed_set_active": {HOUSING},
    "housing:compromise": {HOUSING},
    "housing:house_status": {HOUSING},
}

# Views that only take a POST: a permitted GET is answered 405, a forbidden one 403.
POST_ONLY = {"housing:house_reveal", "housing:bed_set_active", "housing:reports_export"}

# Which object each URL's pk names.
PK_OF = {
    "housing:check_out": "allocation",
    "housing:transfer": "allocation",
    "housing:undo": "allocation",
    "housing:case_history": "case",
    "housing:household_move": "case",
    "housing:room_create": "house",
    "housing:bed_create": "room",
    "housing:bed_set_active": "bed",
}


def housing_urls() -> dict[str, str]:
    return {walked.name: walked.url for walked in walk() if walked.name.startswith("housing:")}


def test_every_housing_url_is_in_the_matrix():
    names = set(housing_urls())
    assert names - set(ALLOWED) == set(), "decide who may open these housing URLs"
    assert set(ALLOWED) - names == set(), "these URLs no longer exist: remove them"


@pytest.fixture
def objects(make_staff):
    coordinator = make_staff(HOUSING)
    case = VerifiedCaseFactory()
    house = HouseFactory()
    room = RoomFactory(house=house)
    bed = BedFactory(room=room)
    BedFactory(room=room)
    allocation = services.allocation_create(
        actor=coordinator, occupant=Occupant(case), bed=bed, start=timezone.localdate()
    )
    return {"allocation": allocation, "case": case, "house": house, "room": room, "bed": bed}


def concrete_url(name: str, sample: str, objects: dict) -> str:
    kwargs = resolve(sample.split("?")[0]).kwargs
    if "pk" in kwargs:
        kwargs = {"pk": objects[PK_OF.get(name, "house")].pk}
    url = reverse(name, kwargs=kwargs)
    if name == "housing:allocate":
        url += f"?case={objects['case'].pk}"
    return url


def assert_no_inline_code(html: str, url: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {url}"
    assert " style=" not in html and "<style" not in html, f"inline style on {url}"


@pytest.mark.parametrize("role", Role.ALL)
def test_role_matrix(login, make_staff, objects, role):
    client = login(make_staff(role, is_staff=role == ADMINISTRATOR))
    wrong = []
    for name, sample in sorted(housing_urls().items()):
        url = concrete_url(name, sample, objects)
        response = client.get(url)
        if role in ALLOWED[name]:
            location = response.get("Location", "")
            if response.status_code == 200:
                if response["Content-Type"].startswith("text/html"):
                    assert_no_inline_code(response.content.decode(), url)
            elif name in POST_ONLY and response.status_code == 405:
                continue
            elif response.status_code != 302 or location.startswith("/accounts/login/"):
                wrong.append(f"{name}: expected allowed, got {response.status_code} {location}")
        elif response.status_code != 403:
            wrong.append(f"{name}: expected 403, got {response.status_code}")
    assert wrong == [], f"{role}: " + "; ".join(wrong)


@pytest.mark.parametrize("role", sorted(set(Role.ALL) - {HOUSING}))
def test_only_coordinators_may_post_to_housing_changes(login, make_staff, objects, role):
    """The write URLs refuse a POST from every other role, and nothing changes."""
    client = login(make_staff(role, is_staff=role == ADMINISTRATOR))
    for name in sorted(name for name, roles in ALLOWED.items() if roles == {HOUSING}):
        sample = housing_urls()[name]
        response = client.post(concrete_url(name, sample, objects), {})
        assert response.status_code == 403, f"{role} posted to {name}: {response.status_code}"
    objects["allocation"].refresh_from_db()
    assert objects["allocation"].stay.upper is None


def test_navigation_follows_the_roles(login, make_staff):
    coordinator_page = login(make_staff(HOUSING)).get("/").content.decode()
    for url_name in ("housing:board", "housing:waiting_list", "housing:reports"):
        assert f'href="{reverse(url_name)}"' in coordinator_page
    manager_page = login(make_staff(MANAGER)).get("/").content.decode()
    assert f'href="{reverse("housing:board")}"' in manager_page
    assert f'href="{reverse("housing:waiting_list")}"' not in manager_page
    administrator_page = login(make_staff(ADMINISTRATOR)).get("/").content.decode()
    assert f'href="{reverse("housing:reports")}"' in administrator_page
    assert f'href="{reverse("housing:board")}"' not in administrator_page
    intake_page = login(make_staff(INTAKE)).get("/").content.decode()
    assert "/housing/" not in intake_page
