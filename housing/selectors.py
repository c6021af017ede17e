"""Reads of housing with their queries decided once: the board, the waiting list, histories and
bed-nights. Occupants are shown by case code only."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Case as When_,
)
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from cases.choices import JourneyStage, RiskLevel, Urgency
from cases.choices import Status as CaseStatus
from cases.models import Case, FamilyMember
from housing.models import Allocation, Bed, House, HouseStatus, Room

RISK_ORDER = When_(
    When(case__risk_level=RiskLevel.CRITICAL, then=Value(0)),
    When(case__risk_level=RiskLevel.HIGH, then=Value(1)),
    When(case__risk_level=RiskLevel.MEDIUM, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


# People who moved on (relocated, resettled) or were lost to contact wait for no bed here.
STAGES_NEEDING_A_BED = (JourneyStage.CONTACTED, JourneyStage.IN_TRANSIT, JourneyStage.ARRIVED)


def _risk_rank(risk_level: str) -> int:
    return {RiskLevel.CRITICAL: 0, RiskLevel.HIGH: 1, RiskLevel.MEDIUM: 2}.get(risk_level, 3)


def _urgency_rank(urgency: str) -> int:
    return {Urgency.IMMEDIATE: 0, Urgency.URGENT: 1}.get(urgency, 2)


def current_allocations(
    *, house: House | None = None, on: datetime.date | None = None
) -> QuerySet[Allocation]:
    on = on or timezone.localdate()
    allocations = Allocation.objects.filter(period__contains=on)
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


def waiting_list() -> list[WaitingEntry]:
    """Verified cases, and their family members who need housing, without a bed today; by
    risk, urgency and then how long they have waited."""
    today = timezone.localdate()
    housed_today = Allocation.objects.filter(period__contains=today)
    cases = (
        Case.objects.filter(status=CaseStatus.VERIFIED, journey_stage__in=STAGES_NEEDING_A_BED)
        .annotate(
            housed=Exists(housed_today.filter(case=OuterRef("pk"), family_member__isnull=True))
        )
        .only("pk", "code", "risk_level", "urgency", "decided_at", "contact_date", "emergency")
        .prefetch_related(
            Prefetch(
                "family_members",
                queryset=FamilyMember.objects.filter(needs_housing=True)
                .annotate(housed=Exists(housed_today.filter(family_member=OuterRef("pk"))))
                .only("pk", "case_id", "relation", "age", "needs_housing"),
            )
        )
    )
    entries = []
    for case in cases:
        since = timezone.localdate(case.decided_at) if case.decided_at else case.contact_date
        if not case.housed:
            entries.append(WaitingEntry(case, None, since))
        entries.extend(
            WaitingEntry(case, member, since)
            for member in case.family_members.all()
            if not member.housed
        )
    entries.sort(
        key=lambda entry: (
            not entry.case.emergency,
            _risk_rank(entry.case.risk_level),
            _urgency_rank(entry.case.urgency),
            entry.waiting_since,
            entry.case.code,
            entry.family_member.pk if entry.family_member else 0,
        )
    )
    return entries


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


def occupancy_board(
    *, town: str = "", status: str = ""
) -> tuple[list[HouseOccupancy], HouseOccupancy]:
    """Every house → room → bed with today's occupant, in four queries whatever the size."""
    today = timezone.localdate()
    houses = House.objects.only("pk", "code_name", "town", "country", "status").prefetch_related(
        Prefetch(
            "rooms",
            queryset=Room.objects.only("pk", "house_id", "name").prefetch_related(
                Prefetch(
                    "beds",
                    queryset=Bed.objects.only("pk", "room_id", "label", "active").prefetch_related(
                        Prefetch(
                            "allocations",
                            queryset=Allocation.objects.filter(period__contains=today)
                            .select_related("case")
                            .only(
                                "pk",
                                "bed_id",
                                "period",
                                "family_member_id",
                                "case__code",
                                "case__risk_level",
                            ),
                            to_attr="current",
                        )
                    ),
                )
            ),
        )
    )
    if town:
        houses = houses.filter(town=town)
    if status:
        houses = houses.filter(status=status)
    board, total = [], HouseOccupancy(house=None)
    for house in houses:
        entry = HouseOccupancy(house=house, rooms=list(house.rooms.all()))
        for room in entry.rooms:
            for bed in room.beds.all():
                bed.occupant = bed.current[0] if bed.current else None
                if bed.active:
                    entry.beds += 1
                if bed.occupant is not None:
                    entry.occupied += 1
        total.beds += entry.beds
        total.occupied += entry.occupied
        board.append(entry)
    return board, total


def towns() -> list[str]:
    return list(House.objects.order_by("town").values_list("town", flat=True).distinct())


def free_beds(*, house: House | None = None, on: datetime.date | None = None) -> QuerySet[Bed]:
    """Beds in use, in active houses, with nobody in them on the day."""
    on = on or timezone.localdate()
    beds = Bed.objects.filter(active=True, room__house__status=HouseStatus.ACTIVE).exclude(
        Exists(Allocation.objects.filter(bed=OuterRef("pk"), period__contains=on))
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
        "bed__room__house", "checked_in_by", "checked_out_by"
    ).order_by("period")


def case_history(*, case: Case) -> QuerySet[Allocation]:
    """Where the case's person and family stayed, oldest first."""
    return (
        Allocation.objects.filter(case=case)
        .select_related("bed__room__house", "family_member", "checked_in_by", "checked_out_by")
        .order_by("period", "family_member_id")
    )


def house_history(*, house: House) -> QuerySet[Allocation]:
    return (
        Allocation.objects.filter(bed__room__house=house)
        .select_related("case", "bed__room", "checked_in_by", "checked_out_by")
        .order_by("-period")
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
    sql = """
        SELECT house.code_name, month.start::date,
               SUM(upper(allocation.period * month.range) - lower(allocation.period * month.range))
        FROM generate_series(%(start)s::date, %(end)s::date, interval '1 month')
             AS month_start(start)
        CROSS JOIN LATERAL (
            SELECT month_start.start AS start,
                   daterange(month_start.start::date,
                             LEAST((month_start.start + interval '1 month')::date, %(stop)s::date),
                             '[)') AS range
        ) AS month
        JOIN housing_allocation AS allocation ON allocation.period && month.range
        JOIN housing_bed AS bed ON bed.id = allocation.bed_id
        JOIN housing_room AS room ON room.id = bed.room_id
        JOIN housing_house AS house ON house.id = room.house_id
        GROUP BY house.code_name, month.start
        ORDER BY month.start, house.code_name
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "start": date_from.replace(day=1),
                "end": last_night.replace(day=1),
                "stop": last_night + datetime.timedelta(days=1),
            },
        )
        return [BedNights(code, month, nights or 0) for code, month, nights in cursor.fetchall()]


@dataclass
class StayFigures:
    average_stay_days: float | None
    longest_wait_days: int | None
    waiting: int


def stay_figures() -> StayFigures:
    """Average length of finished stays, and the current waiting list's length and longest wait."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT AVG(upper(period) - lower(period)) FROM housing_allocation"
            " WHERE NOT upper_inf(period)"
        )
        (average,) = cursor.fetchone()
    waiting = waiting_list()
    return StayFigures(
        average_stay_days=float(average) if average is not None else None,
        longest_wait_days=max((entry.waiting_days for entry in waiting), default=None),
        waiting=len(waiting),
    )


def house_occupancy(*, house: House) -> HouseOccupancy:
    """One house → room → bed with today's occupant (the board's shape), in three queries."""
    today = timezone.localdate()
    rooms = Room.objects.filter(house=house).prefetch_related(
        Prefetch(
            "beds",
            queryset=Bed.objects.prefetch_related(
                Prefetch(
                    "allocations",
                    queryset=Allocation.objects.filter(period__contains=today).select_related(
                        "case", "family_member"
                    ),
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
    today = timezone.localdate()
    # One look-up of today's allocations (PostgreSQL hashes it), not one per bed.
    occupied_today = Q(pk__in=Allocation.objects.filter(period__contains=today).values("bed_id"))
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
                filter=Q(rooms__beds__allocations__period__contains=today),
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
