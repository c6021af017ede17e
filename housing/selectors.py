"""Reads of housing with their queries decided once: the board, the waiting list, histories and
bed-nights. Occupants are shown by case code only."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case as When_,
)
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.utils import timezone

from cases.choices import JourneyStage, RiskLevel
from cases.choices import Status as CaseStatus
from cases.models import Case, FamilyMember
from housing.models import IN_FORCE, Allocation, Bed, House, HouseStatus, Room
from operations.figures import shared_figure

RISK_ORDER = When_(
    When(case__risk_level=RiskLevel.CRITICAL, then=Value(0)),
    When(case__risk_level=RiskLevel.HIGH, then=Value(1)),
    When(case__risk_level=RiskLevel.MEDIUM, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


# People who moved on (relocated, resettled) or were lost to contact wait for no bed here.
STAGES_NEEDING_A_BED = (JourneyStage.CONTACTED, JourneyStage.IN_TRANSIT, JourneyStage.ARRIVED)


def moment_of(day: datetime.date | None = None) -> datetime.datetime:
    """The moment a day typed on a form stands for: now when it is today (or not given), that
    day's midnight in Haven's time zone otherwise. Stays begin and end at moments, so that a
    person placed this morning can be moved or checked out this afternoon."""
    if day is None or day == timezone.localdate():
        return timezone.now()
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


def in_force() -> QuerySet[Allocation]:
    """Stays that hold a bed: every one but those undone (cancelled)."""
    return Allocation.objects.filter(IN_FORCE)


def staying_at(moment: datetime.datetime) -> QuerySet[Allocation]:
    return in_force().filter(stay__contains=moment)


def current_allocations(
    *, house: House | None = None, on: datetime.date | None = None
) -> QuerySet[Allocation]:
    allocations = staying_at(moment_of(on))
    if house is not None:
        allocations = allocations.filter(bed__room__house=house)
    return allocations


def relocation_list(*, house: House) -> list[Allocation]:
    """Everyone staying in the house today, highest risk and urgency first."""
    return list(
        current_allocations(house=house)
        .select_related("case", "family_member", "bed__room")
        .annotate(risk_order=RISK_ORDER)
        .order_by("risk_order", "case__code", "family_member_id")
    )


def household_stays(*, case: Case, house: House | None = None) -> list[Allocation]:
    """The stays of a case's person and family running now (in the house, if given), the
    person first: what a household move starts from."""
    stays = staying_at(timezone.now()).filter(case=case)
    if house is not None:
        stays = stays.filter(bed__room__house=house)
    return list(
        stays.select_related("case", "family_member", "bed__room__house").order_by(
            F("family_member_id").asc(nulls_first=True)
        )
    )


# --- waiting list ---------------------------------------------------------------------------


@dataclass
class WaitingEntry:
    case: Case
    family_member: FamilyMember | None
    waiting_since: datetime.date

    @property
    def label(self) -> str:
        return (
            self.case.code
            if self.family_member is None
            else f"{self.case.code}/F{self.family_member.pk}"
        )

    @property
    def waiting_days(self) -> int:
        return (timezone.localdate() - self.waiting_since).days


# The waiting list's rule (SPEC.md: verified cases without a bed, by priority: risk, urgency,
# date), in one place and in SQL, so that PostgreSQL counts, orders and slices it however long
# it grows: emergencies first, then risk (critical first), urgency (immediate first), the day
# the wait began (the decision, else the contact) and the case code; a case's person before
# its family members. Stays "in force" are those not undone (housing.models.IN_FORCE).
WAITING_SQL = """
    WITH candidate AS NOT MATERIALIZED (
        SELECT id, code, emergency, risk_level, urgency,
               COALESCE((decided_at AT TIME ZONE %(zone)s)::date, contact_month) AS since
        FROM cases_case
        WHERE status = %(verified)s AND journey_stage = ANY(%(stages)s) {case_filter}
    ), waiting AS (
        SELECT candidate.*, NULL::bigint AS member_id
        FROM candidate
        WHERE NOT EXISTS (
            SELECT 1 FROM housing_allocation AS stay
            WHERE stay.case_id = candidate.id AND stay.family_member_id IS NULL
              AND stay.cancelled_at IS NULL AND stay.stay @> %(now)s::timestamptz
        )
        UNION ALL
        SELECT candidate.*, member.id
        FROM candidate JOIN cases_familymember AS member ON member.case_id = candidate.id
        WHERE member.needs_housing AND NOT EXISTS (
            SELECT 1 FROM housing_allocation AS stay
            WHERE stay.family_member_id = member.id
              AND stay.cancelled_at IS NULL AND stay.stay @> %(now)s::timestamptz
        )
    )
"""
WAITING_PAGE_SQL = """
    SELECT id, member_id, since FROM waiting
    ORDER BY NOT emergency,
             CASE risk_level WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
                             ELSE 3 END,
             CASE urgency WHEN 'immediate' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END,
             since, code, member_id NULLS FIRST
    LIMIT %(limit)s OFFSET %(offset)s
"""


class WaitingList:
    """The people waiting for a bed, lazily: `count()`, `oldest_since()` and slices each ask
    PostgreSQL one question (a page of the list is one query whatever its length), so that a
    Paginator pages it without loading it. Iterating reads it all: only for one case's people
    (`case=`) or in tests."""

    def __init__(self, *, case: Case | None = None) -> None:
        self.case = case
        self.now = timezone.now()
        self._count: int | None = None
        self._oldest: datetime.date | None = None

    def _parameters(self) -> dict:
        return {
            "zone": settings.TIME_ZONE,
            "verified": CaseStatus.VERIFIED,
            "stages": list(STAGES_NEEDING_A_BED),
            "now": self.now,
            "case": self.case.pk if self.case is not None else None,
        }

    def _sql(self, tail: str) -> str:
        case_filter = "AND id = %(case)s" if self.case is not None else ""
        return WAITING_SQL.format(case_filter=case_filter) + tail

    def _fetch(self, tail: str, extra: dict | None = None) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(self._sql(tail), {**self._parameters(), **(extra or {})})
            return cursor.fetchall()

    def _summary(self) -> tuple[int, datetime.date | None]:
        if self._count is None:
            ((self._count, self._oldest),) = self._fetch("SELECT count(*), min(since) FROM waiting")
        return self._count, self._oldest

    def count(self) -> int:
        return self._summary()[0]

    def __len__(self) -> int:
        return self.count()

    def oldest_since(self) -> datetime.date | None:
        """The day the longest wait began."""
        return self._summary()[1]

    def longest_wait_days(self) -> int | None:
        oldest = self.oldest_since()
        return (timezone.localdate() - oldest).days if oldest is not None else None

    def entries(self, *, offset: int = 0, limit: int | None = None) -> list[WaitingEntry]:
        """The entries from `offset` on (at most `limit`), in the list's order, in two queries
        more (their cases and family members)."""
        return self.entries_of(self.places(offset=offset, limit=limit))

    def places(
        self, *, offset: int = 0, limit: int | None = None
    ) -> list[tuple[int, int | None, datetime.date]]:
        """The list's order from `offset` on as (case, family member or None, waiting since):
        numbers and a date, nothing that names anyone (the dashboard keeps the first few for a
        minute)."""
        return [
            tuple(row) for row in self._fetch(WAITING_PAGE_SQL, {"limit": limit, "offset": offset})
        ]

    @staticmethod
    def entries_of(rows: list[tuple[int, int | None, datetime.date]]) -> list[WaitingEntry]:
        """The entries at these places, their cases and family members read now (two queries)."""
        cases = Case.objects.only(
            "pk", "code", "risk_level", "urgency", "decided_at", "contact_date", "emergency"
        ).in_bulk({case_pk for case_pk, _member, _since in rows})
        member_pks = {member_pk for _case, member_pk, _since in rows if member_pk is not None}
        members = (
            FamilyMember.objects.only("pk", "case_id", "relation", "age", "needs_housing").in_bulk(
                member_pks
            )
            if member_pks
            else {}
        )
        return [
            WaitingEntry(cases[case_pk], members.get(member_pk), since)
            for case_pk, member_pk, since in rows
            if case_pk in cases
        ]

    def __getitem__(self, index: int | slice) -> list[WaitingEntry] | WaitingEntry:
        if isinstance(index, slice):
            if index.step not in (None, 1) or (index.start or 0) < 0:
                raise ValueError("The waiting list takes plain, forward slices only.")
            start = index.start or 0
            if index.stop is None:
                return self.entries(offset=start)
            return self.entries(offset=start, limit=max(index.stop - start, 0))
        if index < 0:
            raise IndexError(index)
        found = self.entries(offset=index, limit=1)
        if not found:
            raise IndexError(index)
        return found[0]

    def __iter__(self):
        return iter(self.entries())


def waiting_list(*, case: Case | None = None) -> WaitingList:
    """Verified cases, and their family members who need housing, without a bed today; by
    emergency, risk, urgency and then how long they have waited (one case's, if given)."""
    return WaitingList(case=case)


# --- occupancy board --------------------------------------------------------------------------


@dataclass
class HouseOccupancy:
    house: House
    beds: int = 0
    occupied: int = 0
    rooms: list[Room] = field(default_factory=list)

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


def occupancy_of(houses) -> list[HouseOccupancy]:
    """The given houses (a page of them) → room → bed with today's occupant, in four queries
    whatever their size."""
    houses = list(houses)
    prefetch_related_objects(
        houses,
        Prefetch(
            "rooms",
            queryset=Room.objects.only("pk", "house_id", "name").prefetch_related(
                Prefetch(
                    "beds",
                    queryset=Bed.objects.only("pk", "room_id", "label", "active").prefetch_related(
                        Prefetch(
                            "allocations",
                            queryset=staying_at(timezone.now())
                            .select_related("case")
                            .only(
                                "pk",
                                "bed_id",
                                "stay",
                                "family_member_id",
                                "case__code",
                                "case__risk_level",
                            ),
                            to_attr="current",
                        )
                    ),
                )
            ),
        ),
    )
    board = []
    for house in houses:
        entry = HouseOccupancy(house=house, rooms=list(house.rooms.all()))
        for room in entry.rooms:
            for bed in room.beds.all():
                bed.occupant = bed.current[0] if bed.current else None
                if bed.active:
                    entry.beds += 1
                if bed.occupant is not None:
                    entry.occupied += 1
        board.append(entry)
    return board


def occupancy_total(houses: QuerySet[House]) -> HouseOccupancy:
    """The beds in use and the beds occupied today in all the given houses, in one query."""
    totals = Bed.objects.filter(room__house__in=houses.values("pk")).aggregate(
        beds=Count("pk", filter=Q(active=True)),
        occupied=Count("pk", filter=Q(pk__in=staying_at(timezone.now()).values("bed_id"))),
    )
    return HouseOccupancy(house=None, beds=totals["beds"], occupied=totals["occupied"])


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


# --- history and reports ------------------------------------------------------------------------


def person_history(
    *, case: Case, family_member: FamilyMember | None = None
) -> QuerySet[Allocation]:
    allocations = Allocation.objects.filter(case=case)
    allocations = (
        allocations.filter(family_member=family_member)
        if family_member is not None
        else allocations.filter(family_member__isnull=True)
    )
    return allocations.select_related(
        "bed__room__house", "checked_in_by", "checked_out_by", "cancelled_by"
    ).order_by("stay")


def case_history(*, case: Case) -> QuerySet[Allocation]:
    """Where the case's person and family stayed, oldest first, undone stays included."""
    return (
        Allocation.objects.filter(case=case)
        .select_related(
            "bed__room__house",
            "family_member",
            "checked_in_by",
            "checked_out_by",
            "cancelled_by",
        )
        .order_by("stay", "family_member_id")
    )


def house_history(*, house: House) -> QuerySet[Allocation]:
    return (
        Allocation.objects.filter(bed__room__house=house)
        .select_related("case", "bed__room", "checked_in_by", "checked_out_by")
        .order_by("-stay")
    )


@dataclass
class BedNights:
    house_code: str
    month: datetime.date
    nights: int


def bed_nights_per_month(*, date_from: datetime.date, date_to: datetime.date) -> list[BedNights]:
    """Nights slept per house and month: each stay's overlap with each month, up to today."""
    today = timezone.localdate()
    last_night = min(date_to, today)
    # A stay's nights are the days from its check-in day to its check-out day, in Haven's time
    # zone: a stay begun and ended on one day slept no night there. Each stay meets only the
    # months it overlaps (generate_series from its first to its last night), not every month
    # of the range; stays outside the range are left out by the index on stay.
    sql = """
        WITH stay AS (
            SELECT bed_id,
                   GREATEST((lower(stay) AT TIME ZONE %(zone)s)::date, %(start)s::date) AS first,
                   LEAST((upper(stay) AT TIME ZONE %(zone)s)::date, %(stop)s::date) AS stop
            FROM housing_allocation
            WHERE cancelled_at IS NULL AND stay && tstzrange(%(from)s, %(until)s, '[)')
        ), nights AS (
            SELECT room.house_id, month.first_day::date AS month,
                   LEAST(stay.stop, (month.first_day + interval '1 month')::date)
                   - GREATEST(stay.first, month.first_day::date) AS nights
            FROM stay
            CROSS JOIN LATERAL generate_series(
                date_trunc('month', stay.first::timestamp),
                date_trunc('month', (stay.stop - 1)::timestamp),
                interval '1 month'
            ) AS month(first_day)
            JOIN housing_bed AS bed ON bed.id = stay.bed_id
            JOIN housing_room AS room ON room.id = bed.room_id
            WHERE stay.stop > stay.first
        )
        SELECT house_id, month, SUM(nights) FROM nights GROUP BY house_id, month
    """
    start, stop = date_from.replace(day=1), last_night + datetime.timedelta(days=1)
    if stop <= start:
        return []
    zone = timezone.get_default_timezone()

    def nights_by_house() -> list[tuple[int, datetime.date, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {
                    "start": start,
                    "stop": stop,
                    "from": datetime.datetime.combine(start, datetime.time.min, tzinfo=zone),
                    "until": datetime.datetime.combine(stop, datetime.time.min, tzinfo=zone),
                    "zone": settings.TIME_ZONE,
                },
            )
            return [(house, month, nights or 0) for house, month, nights in cursor.fetchall()]

    # Kept for a minute by house number (operations.figures); the houses' names read now.
    rows = shared_figure(f"housing:bed-nights:{start}:{stop}", nights_by_house)
    names = dict(
        House.objects.filter(pk__in={house for house, _month, _nights in rows}).values_list(
            "pk", "code_name"
        )
    )
    return sorted(
        (BedNights(names[house], month, nights) for house, month, nights in rows if house in names),
        key=lambda row: (row.month, row.house_code),
    )


@dataclass
class StayFigures:
    average_stay_days: float | None
    longest_wait_days: int | None
    waiting: int


def stay_figures() -> StayFigures:
    """Average length of finished stays, and the current waiting list's length and longest wait
    (numbers kept for a minute: operations.figures)."""

    def figures() -> tuple[float | None, int, datetime.date | None]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT AVG((upper(stay) AT TIME ZONE %(zone)s)::date"
                " - (lower(stay) AT TIME ZONE %(zone)s)::date) FROM housing_allocation"
                " WHERE NOT upper_inf(stay) AND cancelled_at IS NULL",
                {"zone": settings.TIME_ZONE},
            )
            (average,) = cursor.fetchone()
        waiting = waiting_list()
        average = float(average) if average is not None else None
        return average, waiting.count(), waiting.oldest_since()

    today = timezone.localdate()
    average, count, oldest = shared_figure(f"housing:stays:{today}", figures)
    return StayFigures(
        average_stay_days=average,
        longest_wait_days=(today - oldest).days if oldest is not None else None,
        waiting=count,
    )


def house_occupancy(*, house: House) -> HouseOccupancy:
    """One house → room → bed with today's occupant (the board's shape), in three queries."""
    now = timezone.now()
    rooms = Room.objects.filter(house=house).prefetch_related(
        Prefetch(
            "beds",
            queryset=Bed.objects.prefetch_related(
                Prefetch(
                    "allocations",
                    queryset=staying_at(now).select_related("case", "family_member"),
                    to_attr="current",
                )
            ),
        )
    )
    entry = HouseOccupancy(house=house, rooms=list(rooms))
    for room in entry.rooms:
        room.house = house
        for bed in room.beds.all():
            bed.occupant = bed.current[0] if bed.current else None
            entry.beds += bed.active
            entry.occupied += bed.occupant is not None
    return entry


# --- the dashboard ------------------------------------------------------------------------------


@dataclass
class OccupancySummary:
    beds: int
    occupied: int
    free: int
    compromised: list[HouseOccupancy]

    @property
    def rate(self) -> float:
        return self.occupied / self.beds if self.beds else 0.0


def occupancy_summary() -> OccupancySummary:
    """The board's totals without building the board: beds in use, beds occupied today, the
    beds free to take someone today (in use, empty, in an active house), and the compromised
    houses where somebody still stays (each with `house` and `occupied` filled), in two
    queries whatever the size."""
    now = timezone.now()
    # One look-up of the stays running now (PostgreSQL hashes it), not one per bed.
    occupied_today = Q(pk__in=staying_at(now).values("bed_id"))
    totals = Bed.objects.aggregate(
        beds=Count("pk", filter=Q(active=True)),
        occupied=Count("pk", filter=occupied_today),
        free=Count(
            "pk",
            filter=Q(active=True, room__house__status=HouseStatus.ACTIVE) & ~occupied_today,
        ),
    )
    compromised = (
        House.objects.filter(status=HouseStatus.COMPROMISED)
        .annotate(
            occupied=Count(
                "rooms__beds__allocations",
                filter=Q(
                    rooms__beds__allocations__stay__contains=now,
                    rooms__beds__allocations__cancelled_at__isnull=True,
                ),
            )
        )
        .filter(occupied__gt=0)
        .only("pk", "code_name", "town", "country", "status")
    )
    return OccupancySummary(
        beds=totals["beds"],
        occupied=totals["occupied"],
        free=totals["free"],
        compromised=[HouseOccupancy(house=house, occupied=house.occupied) for house in compromised],
    )
