"""Moves when danger does (issue 20): a person placed this morning moved or checked out this
afternoon, a household moved out of a compromised house in one action (all or nothing), a wrong
allocation undone within the window and kept in the history, and bed pickers that say where a
bed is."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, connection, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from housing import selectors, services
from housing.forms import bed_choices
from housing.models import Allocation
from housing.services import Occupant
from tests.factories import (
    BedFactory,
    FamilyMemberFactory,
    HouseFactory,
    RoomFactory,
    UserFactory,
    VerifiedCaseFactory,
)

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def coordinator(make_staff):
    return make_staff(Role.HOUSING_COORDINATOR)


def place(coordinator, occupant: Occupant, bed, start: datetime.date | None = None):
    return services.allocation_create(
        actor=coordinator, occupant=occupant, bed=bed, start=start or timezone.localdate()
    )


@pytest.fixture
def household(coordinator):
    """A case person and two family members placed this morning in one room of Teak."""
    case = VerifiedCaseFactory(risk_level="high")
    members = [FamilyMemberFactory(case=case), FamilyMemberFactory(case=case, relation="spouse")]
    room = RoomFactory(house=HouseFactory(code_name="Teak"), name="Room 1")
    stays = [
        place(coordinator, Occupant(case, member), BedFactory(room=room))
        for member in (None, *members)
    ]
    return {"case": case, "members": members, "stays": stays, "house": room.house}


def new_beds(count: int, **house):
    room = RoomFactory(house=HouseFactory(**house), name="Room 1")
    return [BedFactory(room=room, label=f"1{letter}") for letter in "ABCDEF"[:count]]


# --- same-day moves and check-outs --------------------------------------------------------------


def test_person_placed_today_is_moved_the_same_day(coordinator):
    case = VerifiedCaseFactory()
    old_bed, new_bed = BedFactory(), BedFactory()
    morning = place(coordinator, Occupant(case), old_bed)

    moved = services.allocation_transfer(
        allocation=morning, actor=coordinator, to_bed=new_bed, reason="House watched"
    )

    morning.refresh_from_db()
    assert not morning.stay.isempty and morning.stay.upper == moved.stay.lower
    assert morning.checked_out_by == coordinator and moved.moved_from == morning
    assert [stay.bed for stay in selectors.current_allocations()] == [new_bed]
    assert old_bed in selectors.free_beds() and new_bed not in selectors.free_beds()


def test_person_placed_today_is_checked_out_the_same_day(coordinator):
    bed = BedFactory()
    morning = place(coordinator, Occupant(VerifiedCaseFactory()), bed)

    services.allocation_check_out(allocation=morning, actor=coordinator)

    morning.refresh_from_db()
    assert morning.stay.lower < morning.stay.upper <= timezone.now()
    assert not selectors.current_allocations().exists()
    # The bed takes someone else at once, the same day.
    place(coordinator, Occupant(VerifiedCaseFactory()), bed)
    with pytest.raises(services.HousingError, match="already ended"):
        services.allocation_check_out(allocation=morning, actor=coordinator)


def test_same_day_move_into_a_taken_bed_changes_nothing(coordinator):
    morning = place(coordinator, Occupant(VerifiedCaseFactory()), BedFactory())
    taken = BedFactory()
    place(coordinator, Occupant(VerifiedCaseFactory()), taken)
    with pytest.raises(services.BedNoLongerFreeError):
        services.allocation_transfer(
            allocation=morning, actor=coordinator, to_bed=taken, reason="Move"
        )
    morning.refresh_from_db()
    assert morning.stay.upper is None and morning.checked_out_at is None
    assert Allocation.objects.count() == 2


def test_a_stay_of_a_few_hours_sleeps_no_night(coordinator):
    morning = place(coordinator, Occupant(VerifiedCaseFactory()), BedFactory())
    services.allocation_check_out(allocation=morning, actor=coordinator)
    today = timezone.localdate()
    assert all(
        row.nights == 0 for row in selectors.bed_nights_per_month(date_from=today, date_to=today)
    )


def test_constraints_hold_at_every_moment_not_only_every_day(coordinator):
    bed, other_bed = BedFactory(), BedFactory()
    case = VerifiedCaseFactory()
    noon = timezone.now().replace(microsecond=0) - 60 * MINUTE
    Allocation.objects.create(
        bed=bed,
        case=case,
        stay=DateTimeTZRange(noon, noon + 30 * MINUTE),
        checked_in_by=coordinator,
    )
    # Someone else in the same bed one minute before the first leaves: refused.
    with pytest.raises(IntegrityError, match="bed_never_double_booked"), transaction.atomic():
        Allocation.objects.create(
            bed=bed,
            case=VerifiedCaseFactory(),
            stay=DateTimeTZRange(noon + 29 * MINUTE, None),
            checked_in_by=coordinator,
        )
    # The same person in another bed for a minute of the first stay: refused.
    with pytest.raises(IntegrityError, match="person_in_one_bed_at_a_time"), transaction.atomic():
        Allocation.objects.create(
            bed=other_bed,
            case=case,
            stay=DateTimeTZRange(noon - MINUTE, noon + MINUTE),
            checked_in_by=coordinator,
        )
    # From the moment the first stay ends, the bed takes someone else.
    Allocation.objects.create(
        bed=bed,
        case=VerifiedCaseFactory(),
        stay=DateTimeTZRange(noon + 30 * MINUTE, None),
        checked_in_by=coordinator,
    )
    with pytest.raises(IntegrityError, match="allocation_has_a_start"), transaction.atomic():
        Allocation.objects.create(
            bed=other_bed,
            case=VerifiedCaseFactory(),
            stay=DateTimeTZRange(noon, noon),
            checked_in_by=coordinator,
        )


# --- household moves ------------------------------------------------------------------------------


def test_household_moves_out_of_a_compromised_house_in_one_action(coordinator, household):
    relocation = services.house_mark_compromised(
        house=household["house"], actor=coordinator, reason="Strangers asking"
    )
    assert {stay.pk for stay in relocation} == {stay.pk for stay in household["stays"]}
    beds = new_beds(3, code_name="Orchid")

    moved = services.household_move(
        actor=coordinator,
        moves=list(zip(household["stays"], beds, strict=True)),
        reason="House compromised",
    )

    assert [stay.bed for stay in moved] == beds
    assert len({stay.stay.lower for stay in moved}) == 1  # one moment for everyone
    assert selectors.relocation_list(house=household["house"]) == []
    assert all(stay.move_reason == "House compromised" for stay in moved)


def test_household_move_is_all_or_nothing_when_a_bed_is_taken_meanwhile(coordinator, household):
    beds = new_beds(3, code_name="Orchid")
    proposed = list(zip(household["stays"], beds, strict=True))
    # Between the proposal and the click, another coordinator gives the second bed away.
    place(coordinator, Occupant(VerifiedCaseFactory()), beds[1])

    with pytest.raises(services.BedNoLongerFreeError, match="no longer free"):
        services.household_move(actor=coordinator, moves=proposed, reason="House compromised")

    for stay in household["stays"]:
        stay.refresh_from_db()
        assert stay.stay.upper is None and stay.checked_out_at is None
    assert not Allocation.objects.filter(moved_from__isnull=False).exists()
    assert set(selectors.current_allocations(house=household["house"])) == set(household["stays"])


def test_a_household_can_swap_beds_in_one_move(coordinator, household):
    first, second, _third = household["stays"]
    services.household_move(
        actor=coordinator, moves=[(first, second.bed), (second, first.bed)], reason="Swap"
    )
    now_in = {stay.family_member_id: stay.bed for stay in selectors.current_allocations()}
    assert now_in[first.family_member_id] == second.bed
    assert now_in[second.family_member_id] == first.bed


@pytest.mark.parametrize(
    ("moves", "reason", "message"),
    [
        (lambda stays, beds: [], "Danger", "at least one person"),
        (lambda stays, beds: [(stays[0], beds[0]), (stays[1], beds[0])], "Danger", "own"),
        (lambda stays, beds: [(stays[0], beds[0]), (stays[0], beds[1])], "Danger", "only once"),
        (lambda stays, beds: [(stays[0], beds[0])], "  ", "Say why"),
        (lambda stays, beds: [(stays[0], stays[0].bed)], "Danger", "already in bed"),
    ],
)
def test_household_move_refuses_bad_input_and_changes_nothing(
    coordinator, household, moves, reason, message
):
    beds = new_beds(2)
    with pytest.raises(services.HousingError, match=message):
        services.household_move(
            actor=coordinator, moves=moves(household["stays"], beds), reason=reason
        )
    assert Allocation.objects.count() == 3
    assert not Allocation.objects.filter(checked_out_at__isnull=False).exists()


def test_household_move_into_a_compromised_house_is_refused(coordinator, household):
    (bed,) = new_beds(1)
    services.house_mark_compromised(house=bed.room.house, actor=coordinator, reason="Raid")
    with pytest.raises(services.HousingError, match="compromised"):
        services.household_move(
            actor=coordinator, moves=[(household["stays"][0], bed)], reason="Danger"
        )
    assert Allocation.objects.count() == 3


# --- undo ---------------------------------------------------------------------------------------


def test_maker_undoes_a_wrong_allocation_and_the_history_says_why(coordinator):
    case, bed = VerifiedCaseFactory(), BedFactory()
    wrong = place(coordinator, Occupant(case), bed)

    services.allocation_undo(allocation=wrong, actor=coordinator, reason="Wrong case")

    wrong.refresh_from_db()
    assert wrong.cancelled_by == coordinator and wrong.cancel_reason == "Wrong case"
    assert Allocation.objects.filter(pk=wrong.pk).exists()  # kept, not deleted
    assert bed in selectors.free_beds()
    assert any(entry.case == case for entry in selectors.waiting_list())
    # The bed and the person are free for the right allocation at once.
    place(coordinator, Occupant(case), BedFactory())
    place(coordinator, Occupant(VerifiedCaseFactory()), bed)
    with pytest.raises(services.HousingError, match="already been undone"):
        services.allocation_undo(allocation=wrong, actor=coordinator, reason="Again")


def test_another_coordinator_may_undo_within_the_window(coordinator, make_staff):
    wrong = place(coordinator, Occupant(VerifiedCaseFactory()), BedFactory())
    services.allocation_undo(
        allocation=wrong, actor=make_staff(Role.HOUSING_COORDINATOR), reason="Wrong bed"
    )
    wrong.refresh_from_db()
    assert wrong.cancelled


def test_undo_after_the_window_is_refused(coordinator, settings):
    settings.HAVEN_ALLOCATION_UNDO_MINUTES = 30
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        wrong = place(coordinator, Occupant(VerifiedCaseFactory()), BedFactory())
        traveller.shift(31 * MINUTE)
        with pytest.raises(services.HousingError, match="within 30 minutes"):
            services.allocation_undo(allocation=wrong, actor=coordinator, reason="Too late")
    wrong.refresh_from_db()
    assert not wrong.cancelled and wrong.cancelled_by is None


def test_only_the_maker_or_a_coordinator_may_undo(coordinator):
    # Someone allowed to change allocations without being a housing coordinator.
    helper_role = Group.objects.create(name="Night duty")
    helper_role.permissions.add(
        Permission.objects.get(codename="change_allocation", content_type__app_label="housing")
    )
    helper = UserFactory()
    helper.groups.add(helper_role)
    wrong = place(coordinator, Occupant(VerifiedCaseFactory()), BedFactory())
    with pytest.raises(services.HousingError, match="Only the person who made"):
        services.allocation_undo(allocation=wrong, actor=helper, reason="Wrong")
    wrong.refresh_from_db()
    assert not wrong.cancelled


def test_undoing_a_move_gives_back_the_old_bed(coordinator):
    case, old_bed, new_bed = VerifiedCaseFactory(), BedFactory(), BedFactory()
    before = place(
        coordinator, Occupant(case), old_bed, timezone.localdate() - datetime.timedelta(days=3)
    )
    moved = services.allocation_transfer(
        allocation=before, actor=coordinator, to_bed=new_bed, reason="Oops"
    )
    services.allocation_undo(allocation=moved, actor=coordinator, reason="Wrong person moved")
    before.refresh_from_db()
    assert before.stay.upper is None and before.checked_out_at is None
    assert [stay.bed for stay in selectors.current_allocations()] == [old_bed]


def test_undoing_a_move_never_puts_anyone_back_into_a_compromised_house(coordinator, household):
    (bed,) = new_beds(1)
    services.house_mark_compromised(house=household["house"], actor=coordinator, reason="Raid")
    moved = services.allocation_transfer(
        allocation=household["stays"][0], actor=coordinator, to_bed=bed, reason="Raid"
    )
    with pytest.raises(services.HousingError, match="compromised: move the person"):
        services.allocation_undo(allocation=moved, actor=coordinator, reason="Wrong bed")
    moved.refresh_from_db()
    assert not moved.cancelled and moved.stay.upper is None


def test_a_stay_checked_out_since_cannot_be_undone(coordinator):
    stay = place(coordinator, Occupant(VerifiedCaseFactory()), BedFactory())
    services.allocation_check_out(allocation=stay, actor=coordinator)
    with pytest.raises(services.HousingError, match="since been checked out"):
        services.allocation_undo(allocation=stay, actor=coordinator, reason="Wrong")


# --- bed pickers ----------------------------------------------------------------------------------


def test_bed_picker_says_house_town_room_and_bed_grouped_by_house():
    orchid = RoomFactory(house=HouseFactory(code_name="Orchid", town="Mae Sot"), name="Room 1")
    teak = RoomFactory(house=HouseFactory(code_name="Teak", town="Umphang"), name="Room 2")
    beds = [BedFactory(room=orchid, label="1A"), BedFactory(room=orchid, label="1B")]
    beds.append(BedFactory(room=teak, label="2A"))
    choices = bed_choices(selectors.free_beds(), "Choose")
    assert choices[0] == ("", "Choose")
    groups = dict(choices[1:])
    assert groups["Orchid, Mae Sot (2 free)"] == [
        (beds[0].pk, "Orchid · Mae Sot · Room 1 / 1A"),
        (beds[1].pk, "Orchid · Mae Sot · Room 1 / 1B"),
    ]
    assert groups["Teak, Umphang (1 free)"] == [(beds[2].pk, "Teak · Umphang · Room 2 / 2A")]


# --- the pages ------------------------------------------------------------------------------------


def move_url(household) -> str:
    return (
        reverse("housing:household_move", kwargs={"pk": household["case"].pk})
        + f"?house={household['house'].pk}"
    )


def test_relocation_list_leads_to_the_household_move_with_beds_proposed_together(
    login, coordinator, household
):
    services.house_mark_compromised(house=household["house"], actor=coordinator, reason="Raid")
    beds = new_beds(3, code_name="Orchid")
    client = login(coordinator)
    house_page = client.get(reverse("housing:house_detail", kwargs={"pk": household["house"].pk}))
    assert move_url(household).replace("&", "&amp;") in house_page.content.decode() or (
        move_url(household) in house_page.content.decode()
    )
    page = client.get(move_url(household)).content.decode()
    for bed in beds:
        assert f'value="{bed.pk}" selected' in page
    assert "<optgroup" in page and "Orchid · Mae Sot · Room 1 / 1A" in page

    form = {f"bed_{stay.pk}": bed.pk for stay, bed in zip(household["stays"], beds, strict=True)}
    response = client.post(
        move_url(household), {**form, "on": timezone.localdate().isoformat(), "reason": "Raid"}
    )
    assert response.status_code == 302
    assert selectors.relocation_list(house=household["house"]) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"on": "yesterday-ish"},
        {"reason": ""},
        {"bed": "not-a-number"},
        {"bed": "999999999"},
        {"bed": ""},
        {"on": "1999-01-01"},
    ],
)
def test_household_move_page_answers_bad_input_with_a_message_and_changes_nothing(
    login, coordinator, household, bad
):
    (bed,) = new_beds(1)
    first = household["stays"][0]
    data = {
        f"bed_{first.pk}": bad.get("bed", bed.pk),
        "on": bad.get("on", timezone.localdate().isoformat()),
        "reason": bad.get("reason", "Raid"),
    }
    response = login(coordinator).post(move_url(household), data)
    assert response.status_code == 200
    assert "Nothing has been saved." in response.content.decode()
    assert Allocation.objects.count() == 3
    assert not Allocation.objects.filter(checked_out_at__isnull=False).exists()


def test_household_move_page_offers_a_new_proposal_when_a_bed_was_taken(
    login, coordinator, household
):
    beds = new_beds(4)
    form = {
        f"bed_{stay.pk}": bed.pk for stay, bed in zip(household["stays"], beds[:3], strict=True)
    }
    place(coordinator, Occupant(VerifiedCaseFactory()), beds[0])
    response = login(coordinator).post(
        move_url(household), {**form, "on": timezone.localdate().isoformat(), "reason": "Raid"}
    )
    assert response.status_code == 200
    assert "no longer free" in response.content.decode()
    assert Allocation.objects.count() == 4
    assert not Allocation.objects.filter(checked_out_at__isnull=False).exists()


def test_case_history_offers_undo_and_shows_why_after(login, coordinator):
    case = VerifiedCaseFactory()
    wrong = place(coordinator, Occupant(case), BedFactory())
    client = login(coordinator)
    history_url = reverse("housing:case_history", kwargs={"pk": case.pk})
    undo_url = reverse("housing:undo", kwargs={"pk": wrong.pk})
    assert undo_url in client.get(history_url).content.decode()

    response = client.post(undo_url, {"reason": ""})
    assert response.status_code == 200 and "Nothing has been saved." in response.content.decode()
    response = client.post(undo_url, {"reason": "Wrong case chosen"})
    assert response.status_code == 302
    page = client.get(history_url).content.decode()
    assert "undone" in page and "Wrong case chosen" in page and undo_url not in page


def test_undo_page_after_the_window_refuses_with_a_message(login, coordinator):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        wrong = place(coordinator, Occupant(VerifiedCaseFactory()), BedFactory())
        traveller.shift(31 * MINUTE)
        client = login(coordinator)
        response = client.post(
            reverse("housing:undo", kwargs={"pk": wrong.pk}), {"reason": "Too late"}
        )
    assert response.status_code == 200
    assert "within 30 minutes" in response.content.decode()
    wrong.refresh_from_db()
    assert not wrong.cancelled


def page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_move_and_history_pages_make_as_many_queries_whatever_the_number_of_beds(
    login, coordinator, household
):
    client = login(coordinator)
    history_url = reverse("housing:case_history", kwargs={"pk": household["case"].pk})
    new_beds(3)
    few = page_queries(client, move_url(household)), page_queries(client, history_url)
    for _ in range(5):
        new_beds(4)
    services.household_move(
        actor=coordinator,
        moves=[(household["stays"][0], new_beds(1)[0])],
        reason="Raid",
    )
    many = page_queries(client, move_url(household)), page_queries(client, history_url)
    assert many == few


def test_case_history_offers_to_move_the_whole_household(login, coordinator, household):
    case = household["case"]
    page = login(coordinator).get(reverse("housing:case_history", kwargs={"pk": case.pk}))
    move = reverse("housing:household_move", kwargs={"pk": case.pk})
    assert f'href="{move}"' in page.content.decode()
