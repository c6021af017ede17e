"""Moving a household out of a compromised house in a real browser, as a housing coordinator does
it the morning the house is found out: mark the house compromised, open the household's move
from the relocation list, check the beds proposed together (each picker saying house, town, room
and bed), and move everyone in one action. What the step needs but does not test (the household
placed that same morning) is created with factories and services."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.roles import Role
from housing import services
from housing.services import Occupant
from tests.browser.test_accessibility import check_pages
from tests.factories import (
    BedFactory,
    FamilyMemberFactory,
    HouseFactory,
    RoomFactory,
    VerifiedCaseFactory,
)

# The live server's requests commit on their own: the test's data must be committed too, and
# the flush afterwards takes the roles of the data migrations with it unless they are restored.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def field(scope, label: str):
    """A form field by its whole label (a required field's label ends with "*" for the eye
    and "(required)" for screen readers)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\s*(\*\s*\(required\))?$"))


def alert(page: Page, text: str):
    return page.get_by_role("alert").filter(has_text=text)


def test_coordinator_moves_a_household_placed_this_morning_out_of_a_compromised_house(
    page: Page, log_in, make_staff
):
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    case = VerifiedCaseFactory(risk_level="high")
    child = FamilyMemberFactory(case=case, relation="child", age=6)
    spouse = FamilyMemberFactory(case=case, relation="spouse", age=30)
    teak = RoomFactory(house=HouseFactory(code_name="Teak", town="Mae Sot"), name="Room 1")
    for member in (None, child, spouse):
        services.allocation_create(
            actor=coordinator,
            occupant=Occupant(case, member),
            bed=BedFactory(room=teak),
            start=timezone.localdate(),
        )
    orchid = RoomFactory(house=HouseFactory(code_name="Orchid", town="Mae Sot"), name="Room 1")
    for label in ("1A", "1B", "1C"):
        BedFactory(room=orchid, label=label)

    log_in(coordinator)
    page.goto("/housing/houses/")
    page.get_by_role("link", name="Teak", exact=True).click()
    page.get_by_role("link", name="Mark compromised").click()
    field(page, "What happened").fill("Strangers asked the neighbours about the house.")
    page.get_by_label(re.compile("I confirm that this house is compromised")).check()
    page.get_by_role("button", name="Mark compromised").click()

    expect(page.get_by_role("heading", name=re.compile("Relocation list of Teak"))).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=case.code)).to_have_count(3)
    # One button per household, on the first of its rows.
    page.get_by_role("link", name=f"Move the household {case.code}").click()

    expect(page.get_by_role("heading", name=f"Move the household of {case.code}")).to_be_visible()
    pickers = page.get_by_role("group", name="A new bed for each person").get_by_role("combobox")
    expect(pickers).to_have_count(3)
    # Proposed together, in one room, each saying where it is even while closed.
    for index, label in enumerate(("1A", "1B", "1C")):
        expect(pickers.nth(index).locator("option:checked")).to_have_text(
            f"Orchid · Mae Sot · Room 1 / {label}"
        )
    expect(pickers.first.locator("optgroup")).to_have_attribute("label", "Orchid, Mae Sot (3 free)")
    field(page, "Reason for the move").fill("Teak is compromised.")
    page.get_by_role("button", name="Move these people").click()

    expect(alert(page, f"3 of {case.code} moved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Teak")).to_be_visible()
    expect(page.get_by_role("heading", name="Relocation list")).to_have_count(0)

    page.goto("/housing/")
    orchid_card = page.locator("section").filter(
        has=page.get_by_role("heading", name=re.compile("Orchid"))
    )
    expect(orchid_card).to_contain_text("3/3 beds")
    expect(orchid_card.get_by_role("link", name=case.code, exact=True)).to_be_visible()
    expect(orchid_card.get_by_role("link", name=f"{case.code}/F{child.pk}")).to_be_visible()

    # The move is in each person's history, the same day as the placement.
    page.get_by_role("link", name=case.code, exact=True).first.click()
    rows = page.get_by_role("row").filter(has_text="Teak is compromised.")
    expect(rows).to_have_count(3)
    expect(page.get_by_text("staying now")).to_have_count(3)


def test_move_and_undo_pages_are_usable_with_keyboard_on_phone_and_office_screens(
    page: Page, log_in, make_staff
):
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    child = FamilyMemberFactory(relation="child", age=6)
    teak = HouseFactory(code_name="Teak", town="Mae Sot")
    stays = [
        services.allocation_create(
            actor=coordinator,
            occupant=Occupant(child.case, member),
            bed=BedFactory(room=RoomFactory(house=teak)),
            start=timezone.localdate(),
        )
        for member in (None, child)
    ]
    services.house_mark_compromised(house=teak, actor=coordinator, reason="Watched")
    BedFactory.create_batch(2, room=RoomFactory(house=HouseFactory(code_name="Orchid")))
    log_in(coordinator)

    check_pages(
        page,
        [
            f"/housing/houses/{teak.pk}/",
            f"/housing/cases/{child.case.pk}/move/?house={teak.pk}",
            f"/housing/cases/{child.case.pk}/",
            f"/housing/stays/{stays[0].pk}/undo/",
        ],
    )
