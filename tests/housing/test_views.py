"""The housing pages through the test client: the coordinator's journey from the board and the
waiting list to beds, a move and a check-out, all visible in the person's history; bad input
that saves nothing; logged reveals; no name or address on the pages; a bounded board."""

from __future__ import annotations

import datetime
import math
import re

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.roles import Role
from audit.models import AccessLog
from housing import services
from housing.models import Allocation, Bed, House, HouseStatus, Room
from housing.selectors import moment_of
from housing.services import Occupant
from housing.views.board import BOARD_PAGE_SIZE
from operations.models import ExportJob
from protection.keys import shared_data_key
from tests import exporting
from tests.factories import (
    BedFactory,
    FamilyMemberFactory,
    HouseFactory,
    RoomFactory,
    VerifiedCaseFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)

CASE_NAME = "Kyaw Zin Htet"
CHILD_NAME = "Maung Aung Myint"
ADDRESS = "17 Hidden Tamarind Lane"
CONTACT = "Naw Eh Paw"
SECRETS = (CASE_NAME, CHILD_NAME, ADDRESS, CONTACT, "hv1:")


@pytest.fixture
def coordinator(make_staff):
    return make_staff(Role.HOUSING_COORDINATOR)


def day(value: datetime.date) -> str:
    return value.isoformat()


def shown(value: datetime.date) -> str:
    """A date as the pages write it ("27 Nov 2026")."""
    return date_format(value, "DATE_FORMAT")


def html(response) -> str:
    return response.content.decode()


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} appears in the page"


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def estate():
    """Two houses in Mae Sot: Lotus with a room of three beds, Jasmine with one bed."""
    lotus = HouseFactory(code_name="Lotus", town="Mae Sot", address=ADDRESS, contact_person=CONTACT)
    lotus_room = RoomFactory(house=lotus, name="Upstairs")
    lotus_beds = [BedFactory(room=lotus_room, label=f"L{number}") for number in (1, 2, 3)]
    jasmine = HouseFactory(code_name="Jasmine", town="Mae Sot")
    jasmine_bed = BedFactory(room=RoomFactory(house=jasmine, name="Garden room"), label="J1")
    # A single bed elsewhere, so that keeping the family together is a real choice.
    lone_bed = BedFactory(
        room=RoomFactory(house=HouseFactory(code_name="Aaa single", town="Umphang"), name="A"),
        label="S1",
    )
    return {
        "lotus": lotus,
        "lotus_beds": lotus_beds,
        "jasmine": jasmine,
        "jasmine_bed": jasmine_bed,
        "lone_bed": lone_bed,
    }


@pytest.fixture
def family():
    case = VerifiedCaseFactory(real_name=CASE_NAME, risk_level="high")
    child = FamilyMemberFactory(case=case, name=CHILD_NAME, relation="child", age=7)
    return case, child


# --- the journey --------------------------------------------------------------------------------


def test_coordinator_houses_a_family_moves_one_and_checks_them_out(
    login, coordinator, estate, family
):
    case, child = family
    child_code = f"{case.code}/F{child.pk}"
    client = login(coordinator)

    board = client.get(reverse("housing:board"))
    assert board.status_code == 200
    assert "Lotus" in html(board) and "Jasmine" in html(board)
    assert html(board).count(">free</span>") == 5
    assert_no_secrets(html(board))

    waiting = client.get(reverse("housing:waiting_list"))
    assert waiting.status_code == 200
    assert case.code in html(waiting) and child_code in html(waiting)
    allocate_url = f"{reverse('housing:allocate')}?case={case.pk}"
    assert f'href="{allocate_url}"' in html(waiting)
    assert_no_secrets(html(waiting))

    form_page = client.get(allocate_url)
    assert form_page.status_code == 200
    form = form_page.context["form"]
    proposed = {form["bed_self"].initial, form[f"bed_f{child.pk}"].initial}
    # The household is proposed together, in Lotus's room of three.
    assert proposed <= {bed.pk for bed in estate["lotus_beds"]} and len(proposed) == 2
    assert_no_secrets(html(form_page))

    start = TODAY - 10 * DAY
    first, second = estate["lotus_beds"][:2]
    response = client.post(
        allocate_url,
        {"bed_self": first.pk, f"bed_f{child.pk}": second.pk, "start": day(start), "end": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("housing:case_history", kwargs={"pk": case.pk})
    child_stay = Allocation.objects.get(case=case, family_member=child)
    assert child_stay.bed == second and child_stay.stay.lower == moment_of(start)
    assert Allocation.objects.get(case=case, family_member=None).bed == first
    after_allocation = html(client.get(response["Location"]))
    assert "Lotus" in after_allocation and after_allocation.count("staying now") == 2

    moved_on = TODAY - 6 * DAY
    response = client.post(
        reverse("housing:transfer", kwargs={"pk": child_stay.pk}),
        {"to_bed": estate["jasmine_bed"].pk, "on": day(moved_on), "reason": "Closer to school"},
    )
    assert response.status_code == 302
    new_stay = Allocation.objects.get(case=case, family_member=child, stay__contains=timezone.now())
    assert new_stay.bed == estate["jasmine_bed"] and new_stay.move_reason == "Closer to school"
    after_move = html(client.get(reverse("housing:case_history", kwargs={"pk": case.pk})))
    assert "Jasmine" in after_move and "Closer to school" in after_move

    out_on = TODAY - 2 * DAY
    response = client.post(
        reverse("housing:check_out", kwargs={"pk": new_stay.pk}), {"on": day(out_on)}
    )
    assert response.status_code == 302
    new_stay.refresh_from_db()
    assert new_stay.stay.upper == moment_of(out_on) and new_stay.checked_out_by == coordinator

    history = client.get(reverse("housing:case_history", kwargs={"pk": case.pk}))
    assert history.status_code == 200
    page = html(history)
    assert page.count(child_code) >= 2 and case.code in page
    for text in (
        "Lotus",
        "Jasmine",
        "Closer to school",
        shown(start),
        shown(moved_on),
        shown(out_on),
    ):
        assert text in page, text
    assert "staying now" in page
    assert_no_secrets(page)

    # The child waits again; the case person is still housed.
    waiting = client.get(reverse("housing:waiting_list"))
    assert child_code in html(waiting)
    assert f">{case.code}</a>" not in html(waiting)


def test_board_shows_occupants_by_code_with_since_and_occupancy(login, coordinator, estate, family):
    case, _child = family
    services.allocation_create(
        actor=coordinator,
        occupant=Occupant(case),
        bed=estate["lotus_beds"][0],
        start=TODAY - 3 * DAY,
    )
    response = login(coordinator).get(reverse("housing:board"))
    page = html(response)
    assert case.code in page
    assert f"since {shown(TODAY - 3 * DAY)}" in page
    assert "1 of 5 beds occupied, 4 free" in page
    assert "1/3 beds" in page and "33&nbsp;%" in page
    assert_no_secrets(page)


def test_board_escapes_room_and_bed_names_and_says_when_a_house_has_none(login, make_staff):
    house = HouseFactory(code_name="Aster")
    RoomFactory(house=house, name='<b>Attic & "loft"</b>')
    BedFactory(room=RoomFactory(house=house, name="Yard"), label="<i>B&1</i>")
    HouseFactory(code_name="Bamboo")  # no rooms yet
    for language, no_beds, no_rooms in (
        ("en", "No beds in this room.", "No rooms yet."),
        ("my", "ဤအခန်းတွင် ခုတင် မရှိပါ။", "အခန်း မရှိသေးပါ။"),
    ):
        coordinator = make_staff(Role.HOUSING_COORDINATOR, preferred_language=language)
        page = html(login(coordinator).get(reverse("housing:board")))
        assert "&lt;b&gt;Attic &amp; &quot;loft&quot;&lt;/b&gt;" in page
        assert "&lt;i&gt;B&amp;1&lt;/i&gt;" in page
        assert "<i>B" not in page and "<b>Attic" not in page
        assert no_beds in page and no_rooms in page


def test_board_filters_by_town_and_status(login, coordinator, estate):
    estate["jasmine"].status, estate["jasmine"].status_reason = HouseStatus.CLOSED, "Roof"
    estate["jasmine"].save()
    client = login(coordinator)
    by_town = html(client.get(reverse("housing:board"), {"town": "Umphang"}))
    assert "Aaa single" in by_town and "Lotus" not in by_town
    by_status = html(client.get(reverse("housing:board"), {"status": "closed"}))
    assert "Jasmine" in by_status and "Lotus" not in by_status
    # An unknown filter value is ignored, not an error.
    assert client.get(reverse("housing:board"), {"status": "nonsense"}).status_code == 200


def test_compromised_house_is_flagged_on_the_board_with_its_occupants(
    login, coordinator, estate, family
):
    case, _child = family
    services.allocation_create(
        actor=coordinator, occupant=Occupant(case), bed=estate["jasmine_bed"], start=TODAY
    )
    services.house_mark_compromised(house=estate["jasmine"], actor=coordinator, reason="Watched")
    page = html(login(coordinator).get(reverse("housing:board")))
    flagged = page.split('id="compromised-heading"')[1].split("</section>")[0]
    assert "Jasmine" in flagged and case.code in flagged


# --- the allocation form ------------------------------------------------------------------------


def allocate_post(client, case, data):
    return client.post(f"{reverse('housing:allocate')}?case={case.pk}", data)


def test_end_before_start_is_refused_and_saves_nothing(login, coordinator, estate, family):
    case, child = family
    response = allocate_post(
        login(coordinator),
        case,
        {
            "bed_self": estate["lotus_beds"][0].pk,
            f"bed_f{child.pk}": estate["lotus_beds"][1].pk,
            "start": day(TODAY),
            "end": day(TODAY - DAY),
        },
    )
    assert response.status_code == 200
    assert "The end of a stay must be after its start." in html(response)
    assert not Allocation.objects.exists()


def test_inactive_bed_is_refused_and_the_household_saves_nothing(
    login, coordinator, estate, family
):
    case, child = family
    estate["lotus_beds"][1].active = False
    estate["lotus_beds"][1].save()
    response = allocate_post(
        login(coordinator),
        case,
        {
            "bed_self": estate["lotus_beds"][0].pk,
            f"bed_f{child.pk}": estate["lotus_beds"][1].pk,
            "start": day(TODAY),
        },
    )
    assert response.status_code == 200
    assert "is not in use" in html(response)
    assert not Allocation.objects.exists()


def test_bed_in_a_compromised_house_is_refused(login, coordinator, estate, family):
    case, _child = family
    services.house_mark_compromised(house=estate["lotus"], actor=coordinator, reason="Raid")
    response = allocate_post(
        login(coordinator), case, {"bed_self": estate["lotus_beds"][0].pk, "start": day(TODAY)}
    )
    assert response.status_code == 200
    assert "compromised: it takes no new allocation" in html(response)
    assert not Allocation.objects.exists()


def test_bed_taken_meanwhile_is_a_message_and_the_form_comes_back(
    login, coordinator, estate, family
):
    case, child = family
    client = login(coordinator)
    assert client.get(f"{reverse('housing:allocate')}?case={case.pk}").status_code == 200
    taken = estate["lotus_beds"][0]
    services.allocation_create(
        actor=coordinator, occupant=Occupant(VerifiedCaseFactory()), bed=taken, start=TODAY
    )
    response = allocate_post(
        client,
        case,
        {"bed_self": taken.pk, f"bed_f{child.pk}": estate["lotus_beds"][1].pk, "start": day(TODAY)},
    )
    assert response.status_code == 200
    assert any("no longer free" in message for message in messages_of(response))
    assert "Allocate these beds" in html(response)
    assert not Allocation.objects.filter(case=case).exists()
    # The new proposal offers only beds that are free now.
    form = response.context["form"]
    assert taken.pk not in {form["bed_self"].initial, form[f"bed_f{child.pk}"].initial}


def test_two_people_in_one_bed_is_a_form_error(login, coordinator, estate, family):
    case, child = family
    bed = estate["lotus_beds"][0]
    response = allocate_post(
        login(coordinator),
        case,
        {"bed_self": bed.pk, f"bed_f{child.pk}": bed.pk, "start": day(TODAY)},
    )
    assert "Each person needs a bed of their own." in html(response)
    assert not Allocation.objects.exists()


def test_part_of_a_household_can_wait(login, coordinator, estate, family):
    case, child = family
    response = allocate_post(
        login(coordinator),
        case,
        {"bed_self": estate["lotus_beds"][0].pk, f"bed_f{child.pk}": "", "start": day(TODAY)},
    )
    assert response.status_code == 302
    assert list(Allocation.objects.values_list("family_member", flat=True)) == [None]


def test_allocation_form_for_an_unverified_case_or_nobody_waiting(login, coordinator, estate):
    client = login(coordinator)
    unverified = FamilyMemberFactory(case__status="intake").case
    response = client.get(f"{reverse('housing:allocate')}?case={unverified.pk}", follow=True)
    assert "only verified cases can be housed" in html(response)
    response = client.get(reverse("housing:allocate"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("housing:waiting_list")


def test_proposal_keeps_a_household_together_across_rooms_of_one_house(login, coordinator, family):
    case, child = family
    second_child = FamilyMemberFactory(case=case, relation="child", age=4)
    house = HouseFactory(code_name="Banyan")
    beds = [BedFactory(room=RoomFactory(house=house, name=f"R{n}"), label="1") for n in (1, 2, 3)]
    BedFactory(room=RoomFactory(house=HouseFactory(code_name="Aardvark"), name="X"), label="1")
    form = login(coordinator).get(f"{reverse('housing:allocate')}?case={case.pk}").context["form"]
    proposed = {form[name].initial for name in form.fields if name.startswith("bed_")}
    assert proposed == {bed.pk for bed in beds}
    assert {f"bed_f{child.pk}", f"bed_f{second_child.pk}", "bed_self"} <= set(form.fields)


# --- moves and check-outs -----------------------------------------------------------------------


@pytest.fixture
def stay(coordinator, estate, family):
    case, _child = family
    return services.allocation_create(
        actor=coordinator,
        occupant=Occupant(case),
        bed=estate["lotus_beds"][0],
        start=TODAY - 5 * DAY,
    )


def test_transfer_needs_a_reason_and_changes_nothing_without(login, coordinator, estate, stay):
    response = login(coordinator).post(
        reverse("housing:transfer", kwargs={"pk": stay.pk}),
        {"to_bed": estate["jasmine_bed"].pk, "on": day(TODAY), "reason": ""},
    )
    assert response.status_code == 200
    assert "This field is required." in html(response)
    assert Allocation.objects.get().bed == estate["lotus_beds"][0]


def test_transfer_to_a_compromised_house_leaves_the_person_in_the_old_bed(
    login, coordinator, estate, stay
):
    services.house_mark_compromised(house=estate["jasmine"], actor=coordinator, reason="Raid")
    response = login(coordinator).post(
        reverse("housing:transfer", kwargs={"pk": stay.pk}),
        {"to_bed": estate["jasmine_bed"].pk, "on": day(TODAY), "reason": "Safer"},
    )
    assert response.status_code == 200
    assert "compromised" in html(response)
    stay.refresh_from_db()
    assert stay.stay.upper is None and Allocation.objects.count() == 1


def test_check_out_before_check_in_is_refused(login, coordinator, stay):
    response = login(coordinator).post(
        reverse("housing:check_out", kwargs={"pk": stay.pk}), {"on": day(TODAY - 9 * DAY)}
    )
    assert response.status_code == 200
    assert "A check-out must be after the check-in" in html(response)
    stay.refresh_from_db()
    assert stay.stay.upper is None


# --- houses -------------------------------------------------------------------------------------


def test_house_detail_masks_the_address_and_reveal_is_logged(login, coordinator, estate):
    client = login(coordinator)
    lotus = estate["lotus"]
    page = html(client.get(reverse("housing:house_detail", kwargs={"pk": lotus.pk})))
    assert_no_secrets(page)
    assert "*****" in page and "Reveal" in page

    response = client.post(
        reverse("housing:house_reveal", kwargs={"pk": lotus.pk}), {"field": "address"}
    )
    assert response.status_code == 200
    assert ADDRESS in html(response)
    assert CONTACT not in html(response)
    assert response["Cache-Control"].startswith("max-age=0")
    entry = AccessLog.objects.get(action=AccessLog.Action.REVEAL)
    assert (entry.actor, entry.target_label, entry.field) == (coordinator, "Lotus", "address")
    assert ADDRESS not in str(entry.detail)


def test_reveal_is_refused_to_a_case_manager_and_not_logged(login, make_staff, estate):
    client = login(make_staff(Role.CASE_MANAGER))
    lotus = estate["lotus"]
    page = client.get(reverse("housing:house_detail", kwargs={"pk": lotus.pk}))
    assert page.status_code == 200
    assert_no_secrets(html(page))
    assert "Reveal" not in html(page)
    response = client.post(
        reverse("housing:house_reveal", kwargs={"pk": lotus.pk}), {"field": "address"}
    )
    assert response.status_code == 403
    assert ADDRESS not in html(response)
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


def test_reveal_of_an_unknown_field_is_not_found(login, coordinator, estate):
    response = login(coordinator).post(
        reverse("housing:house_reveal", kwargs={"pk": estate["lotus"].pk}), {"field": "status"}
    )
    assert response.status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


def test_house_create_edit_rooms_and_beds(login, coordinator):
    client = login(coordinator)
    response = client.post(
        reverse("housing:house_create"),
        {
            "code_name": "Orchid",
            "town": "Mae Sot",
            "country": "TH",
            "address": ADDRESS,
            "contact_person": CONTACT,
            "notes": "",
        },
    )
    house = House.objects.get(code_name="Orchid")
    assert response["Location"] == reverse("housing:house_detail", kwargs={"pk": house.pk})
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM housing_house WHERE id = %s", [house.pk])
        assert cursor.fetchone()[0].startswith("hv1:")

    edit_page = html(client.get(reverse("housing:house_edit", kwargs={"pk": house.pk})))
    assert_no_secrets(edit_page)
    client.post(
        reverse("housing:house_edit", kwargs={"pk": house.pk}),
        {"code_name": "Orchid", "town": "Umphang", "country": "TH", "address": ""},
    )
    house = House.objects.get(pk=house.pk)
    assert house.town == "Umphang" and house.address == ADDRESS and house.contact_person == CONTACT

    client.post(reverse("housing:room_create", kwargs={"pk": house.pk}), {"name": "Loft"})
    room = Room.objects.get(house=house)
    duplicate = client.post(
        reverse("housing:room_create", kwargs={"pk": house.pk}), {"name": "loft"}
    )
    assert "already has a room called" in html(duplicate) and Room.objects.count() == 1

    client.post(reverse("housing:bed_create", kwargs={"pk": room.pk}), {"label": "B1"})
    bed = Bed.objects.get(room=room)
    client.post(reverse("housing:bed_set_active", kwargs={"pk": bed.pk}), {"active": "0"})
    bed.refresh_from_db()
    assert not bed.active


def test_duplicate_code_name_is_a_form_error(login, coordinator, estate):
    response = login(coordinator).post(
        reverse("housing:house_create"),
        {"code_name": "lotus", "town": "Mae Sot", "country": "TH", "address": "Somewhere 1"},
    )
    assert response.status_code == 200
    assert "Another house is already called" in html(response)
    assert House.objects.filter(code_name__iexact="lotus").count() == 1


def test_occupied_bed_cannot_be_taken_out_of_use(login, coordinator, stay):
    response = login(coordinator).post(
        reverse("housing:bed_set_active", kwargs={"pk": stay.bed_id}), {"active": "0"}, follow=True
    )
    assert "move them first" in html(response)
    assert Bed.objects.get(pk=stay.bed_id).active


def test_mark_compromised_shows_the_relocation_list(login, coordinator, estate, stay):
    client = login(coordinator)
    url = reverse("housing:compromise", kwargs={"pk": estate["lotus"].pk})
    unconfirmed = client.post(url, {"reason": "Seen by informers"})
    assert unconfirmed.status_code == 200
    assert House.objects.get(pk=estate["lotus"].pk).status == HouseStatus.ACTIVE

    response = client.post(url, {"reason": "Seen by informers", "confirm": "on"})
    assert response.status_code == 200
    page = html(response)
    assert "Relocation list" in page and stay.case.code in page
    assert_no_secrets(page)
    house = House.objects.get(pk=estate["lotus"].pk)
    assert house.status == HouseStatus.COMPROMISED and house.status_changed_by == coordinator

    again = client.post(url, {"reason": "Again", "confirm": "on"})
    assert "already marked compromised" in html(again)
    detail = html(client.get(reverse("housing:house_detail", kwargs={"pk": house.pk})))
    assert "Relocation list" in detail and stay.case.code in detail


def test_reopen_and_close_a_house(login, coordinator, estate, stay):
    client = login(coordinator)
    lotus = estate["lotus"]
    url = reverse("housing:house_status", kwargs={"pk": lotus.pk})
    refused = client.post(url, {"status": "closed", "reason": "Lease ends"})
    assert "People are still staying in this house" in html(refused)
    assert House.objects.get(pk=lotus.pk).status == HouseStatus.ACTIVE

    services.house_mark_compromised(house=lotus, actor=coordinator, reason="Raid")
    response = client.post(url, {"status": "active", "reason": "Checked, safe again"})
    assert response.status_code == 302
    assert House.objects.get(pk=lotus.pk).status == HouseStatus.ACTIVE


# --- reports ------------------------------------------------------------------------------------


@pytest.fixture
def past_stays(coordinator, estate):
    start = (TODAY.replace(day=1) - 40 * DAY).replace(day=1)
    services.allocation_create(
        actor=coordinator,
        occupant=Occupant(VerifiedCaseFactory()),
        bed=estate["lotus_beds"][0],
        start=start,
        end=start + 10 * DAY,
    )
    return start


def test_reports_show_bed_nights_chart_table_and_figures(login, coordinator, past_stays):
    response = login(coordinator).get(reverse("housing:reports"))
    assert response.status_code == 200
    page = html(response)
    assert "<svg" in page and "<title" in page and "<desc" in page
    table = response.context["table"]
    assert len(table.months) == 12
    assert [row.house_code for row in table.houses] == ["Lotus"]
    assert table.total == 10
    assert response.context["figures"].average_stay_days == 10
    assert " style=" not in page and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)


def test_reports_refuse_an_inverted_range(login, coordinator):
    response = login(coordinator).get(
        reverse("housing:reports"), {"start": "2026-05", "end": "2025-01"}
    )
    assert response.status_code == 200
    assert "The start month must not be after the end month." in html(response)
    assert "table" not in response.context


def test_reports_refuse_a_range_ending_after_this_month(login, coordinator):
    # The same rules as the case and journey reports (accounts.forms.MonthRangeForm).
    next_month = timezone.localdate().replace(day=1) + relativedelta(months=1)
    response = login(coordinator).get(
        reverse("housing:reports"), {"end": next_month.strftime("%Y-%m")}
    )
    assert "The end month cannot be after the current month." in html(response)
    assert "table" not in response.context


def test_csv_export_has_codes_and_counts_and_is_logged(login, coordinator, estate, past_stays):
    estate["lotus"].code_name = "=HYPERLINK(1)"
    estate["lotus"].save()
    response = exporting.export(login(coordinator), reverse("housing:reports_export"))
    assert response["Content-Type"].startswith("text/csv")
    text = exporting.content(response).decode()
    lines = text.splitlines()
    assert lines[0] == "house,month,bed_nights"
    assert lines[1].startswith("'=HYPERLINK(1),") and lines[1].endswith(",10")
    entry = AccessLog.objects.get(
        action=AccessLog.Action.EXPORT, detail__report="housing_bed_nights"
    )
    assert entry.actor == coordinator and entry.detail["rows"] == 1
    assert ADDRESS not in text


def test_csv_export_of_a_bad_range_is_a_message(login, coordinator):
    response = login(coordinator).post(
        reverse("housing:reports_export"), {"start": "2026-05", "end": "2025-01"}, follow=True
    )
    assert "The start month must not be after the end month." in html(response)
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()
    assert not ExportJob.objects.exists()


# --- the board's query bound --------------------------------------------------------------------


def build_estate(*, houses: int, first: int, beds_per_house: int = 12, occupants=()) -> None:
    """Houses with three rooms each, created in bulk; the given cases sleep in the first beds."""
    data_key = shared_data_key(purpose="housing.house")
    created = House.objects.bulk_create(
        House(
            code_name=f"Bulk {first + number:03d}",
            town="Mae Sot" if number % 2 else "Umphang",
            country="TH",
            address=f"{number} Bulk Road",
            data_key=data_key,
        )
        for number in range(houses)
    )
    rooms = Room.objects.bulk_create(
        Room(house=house, name=f"Room {number}") for house in created for number in range(3)
    )
    beds = Bed.objects.bulk_create(
        Bed(room=room, label=f"B{number}")
        for room in rooms
        for number in range(beds_per_house // 3)
    )
    Allocation.objects.bulk_create(
        Allocation(
            bed=bed,
            case=case,
            family_member=member,
            stay=DateTimeTZRange(moment_of(TODAY - DAY), None, "[)"),
            checked_in_by=checker,
        )
        for bed, (case, member, checker) in zip(beds, occupants, strict=False)
    )


# psycopg keeps the parsed form of a statement of at most this many parameters; a wider one is
# parsed again on every request (about 2 ms each on the board, before it asked by house).
PSYCOPG_CACHED_PARAMETERS = 50


def board_query_count(client) -> tuple[int, str]:
    widths = []

    def parameters(execute, sql, params, many, context):
        widths.append(len(params or ()))
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(parameters):
        response = client.get(reverse("housing:board"))
    assert response.status_code == 200
    assert max(widths) <= PSYCOPG_CACHED_PARAMETERS
    return len(queries), html(response)


def test_board_query_count_does_not_grow_with_the_estate(
    login, coordinator, django_assert_max_num_queries
):
    client = login(coordinator)
    client.get(reverse("housing:board"))  # the session settles on the first page
    family = FamilyMemberFactory()
    occupants = [(family.case, None, coordinator), (family.case, family, coordinator)]
    build_estate(houses=2, first=0, occupants=occupants)
    small, _page = board_query_count(client)

    more = [(VerifiedCaseFactory(), None, coordinator) for _number in range(20)]
    build_estate(houses=48, first=2, occupants=more)
    assert Bed.objects.count() == 600 and House.objects.count() == 50
    with django_assert_max_num_queries(small):
        large, page = board_query_count(client)
    assert large == small
    assert "22 of 600 beds occupied, 578 free" in page
    # The board shows a page of houses at a time; every free bed is on one of its pages.
    pages = [page]
    while 'href="?page=' in pages[-1] and ">Next</a>" in pages[-1]:
        number = len(pages) + 1
        pages.append(client.get(reverse("housing:board") + f"?page={number}").content.decode())
    assert len(pages) == math.ceil(50 / BOARD_PAGE_SIZE)
    assert sum(board.count(">free</span>") for board in pages) == 578


def test_case_page_links_to_where_the_person_stayed_for_roles_that_may_see_it(login, make_staff):
    from accounts.roles import Role
    from tests.factories import VerifiedCaseFactory

    case = VerifiedCaseFactory()
    link = f'href="/housing/cases/{case.pk}/"'
    assert link in login(make_staff(Role.CASE_MANAGER)).get(f"/cases/{case.pk}/").content.decode()
    assert link not in login(make_staff(Role.VERIFIER)).get(f"/cases/{case.pk}/").content.decode()
