"""The occupancy board and the houses list: a page of houses, their rooms, beds and today's
occupants (by case code only), and the totals."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone

from housing.models import Bed, House, HouseStatus, Room, occupant_label
from housing.selectors.stays import moment_of, staying_at
from operations.figures import figures_generation, shared_figure

# The generation (operations.figures) of the houses, rooms, beds and stays: bumped by any change
# to them (housing/apps.py), it starts new shared bed totals.
BEDS = "beds"


@dataclass
class HouseOccupancy:
    house: House
    beds: int = 0
    occupied: int = 0
    rooms: list = field(default_factory=list)  # BoardRoom

    @property
    def free(self) -> int:
        return self.beds - self.occupied

    @property
    def rate(self) -> float:
        return self.occupied / self.beds if self.beds else 0.0


def board_houses(*, town: str = "", status: str = "") -> QuerySet[House]:
    """The houses of the board and the houses list, filtered, in the board's order."""
    houses = House.objects.only("pk", "code_name", "town", "country", "status")
    if town:
        houses = houses.filter(town=town)
    if status:
        houses = houses.filter(status=status)
    return houses.order_by("town", "code_name", "pk")


@dataclass
class BoardOccupant:
    """Who sleeps in a bed today, as the board shows them (pseudonymous: the case's code)."""

    pk: int
    case_id: int
    case_code: str
    family_member_id: int | None
    since: datetime.datetime  # the start of the stay

    @property
    def occupant_label(self) -> str:
        return occupant_label(self.case_code, self.family_member_id)


@dataclass
class BoardBed:
    pk: int
    label: str
    active: bool
    occupant: BoardOccupant | None = None


@dataclass
class BoardRoom:
    pk: int
    name: str
    beds: list[BoardBed] = field(default_factory=list)


def occupancy_of(houses) -> list[HouseOccupancy]:
    """The given houses (a page of them) → room → bed with today's occupant, in three queries
    whatever their size. Rows, not model instances: a page of 24 houses holds about 500 beds and
    their occupants, and building them as models took most of the board's time."""
    houses = list(houses)
    rooms_by_house: dict[int, list[BoardRoom]] = {house.pk: [] for house in houses}
    rooms: dict[int, BoardRoom] = {}
    for pk, house_id, name in (
        Room.objects.filter(house__in=list(rooms_by_house))
        .order_by("house_id", "name", "pk")
        .values_list("pk", "house_id", "name")
    ):
        rooms[pk] = BoardRoom(pk=pk, name=name)
        rooms_by_house[house_id].append(rooms[pk])
    beds: dict[int, BoardBed] = {}
    for pk, room_id, label, active in (
        # By the page's houses, not by the ids of its hundreds of rooms and beds: psycopg parses a
        # statement of more than 50 parameters afresh each time (2 ms each, two a page).
        Bed.objects.filter(room__house__in=list(rooms_by_house))
        .order_by("room_id", "label", "pk")
        .values_list("pk", "room_id", "label", "active")
    ):
        beds[pk] = BoardBed(pk=pk, label=label, active=active)
        rooms[room_id].beds.append(beds[pk])
    if beds:
        occupants = (
            staying_at(timezone.now())
            .filter(bed__room__house__in=list(rooms_by_house))
            .annotate(since=F("stay__startswith"))  # lower(stay), no range to parse
            .values_list("pk", "bed_id", "case_id", "case__code", "family_member_id", "since")
        )
        for pk, bed_id, case_id, code, member_id, since in occupants:
            if beds[bed_id].occupant is None:  # the first, as the board always showed
                beds[bed_id].occupant = BoardOccupant(pk, case_id, code, member_id, since)
    board = []
    for house in houses:
        entry = HouseOccupancy(house=house, rooms=rooms_by_house[house.pk])
        for room in entry.rooms:
            for bed in room.beds:
                entry.beds += bed.active
                entry.occupied += bed.occupant is not None
        board.append(entry)
    return board


def occupancy_total(*, filters: dict[str, str]) -> HouseOccupancy:
    """The beds in use and the beds occupied today in the houses of the board's `filters`
    (board_houses), in one query. Two numbers, shared (operations.figures) until a house, room,
    bed or stay changes, and for HAVEN_FIGURES_CACHE_SECONDS at most (a stay starts and ends on
    the clock, not by a save): finding the stays running now took 8 of the query's 13 ms at
    scale."""

    def count() -> tuple[int, int]:
        houses = board_houses(**filters)
        totals = Bed.objects.filter(room__house__in=houses.values("pk")).aggregate(
            beds=Count("pk", filter=Q(active=True)),
            occupied=Count("pk", filter=Q(pk__in=staying_at(timezone.now()).values("bed_id"))),
        )
        return totals["beds"], totals["occupied"]

    # The filters name a town: a digest of them goes into the key, not the town.
    digest = hashlib.blake2b(repr(sorted(filters.items())).encode(), digest_size=8).hexdigest()
    beds, occupied = shared_figure(
        f"housing:board-total:{figures_generation(BEDS)}:{digest}", count
    )
    return HouseOccupancy(house=None, beds=beds, occupied=occupied)


def towns() -> list[str]:
    return list(House.objects.order_by("town").values_list("town", flat=True).distinct())


def free_beds(*, house: House | None = None, on: datetime.date | None = None) -> QuerySet[Bed]:
    """Beds in use, in active houses, with nobody in them on the day."""
    beds = Bed.objects.filter(active=True, room__house__status=HouseStatus.ACTIVE).exclude(
        Exists(staying_at(moment_of(on)).filter(bed=OuterRef("pk")))
    )
    if house is not None:
        beds = beds.filter(room__house=house)
    return beds.select_related("room__house").order_by(
        "room__house__town", "room__house__code_name", "room__name", "label"
    )
