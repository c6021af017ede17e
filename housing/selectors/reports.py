"""Stay histories, bed-nights and stay figures, and the dashboard's occupancy summary."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone

from cases.models import Case, FamilyMember
from housing.models import Allocation, Bed, House, HouseStatus, Room
from housing.selectors.occupancy import BEDS, HouseOccupancy
from housing.selectors.stays import staying_at
from housing.selectors.waiting import waiting_list
from operations.figures import figures_generation, shared_figure


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
    # Every house's name (an organisation has a few hundred houses): asking for the houses of
    # the rows by their ids made a statement psycopg parsed afresh each time.
    names = dict(House.objects.values_list("pk", "code_name"))
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
    queries whatever the size.

    The three totals (numbers only, counted over every bed) are shared for
    HAVEN_FIGURES_CACHE_SECONDS like the dashboard's other caseload-wide figures; the
    compromised houses, an alert, are read on every request."""
    now = timezone.now()

    def count_beds() -> dict[str, int]:
        # One look-up of the stays running now (PostgreSQL hashes it), not one per bed.
        occupied_today = Q(pk__in=staying_at(timezone.now()).values("bed_id"))
        return Bed.objects.aggregate(
            beds=Count("pk", filter=Q(active=True)),
            occupied=Count("pk", filter=occupied_today),
            free=Count(
                "pk",
                filter=Q(active=True, room__house__status=HouseStatus.ACTIVE) & ~occupied_today,
            ),
        )

    totals = shared_figure(f"housing:occupancy-totals:{figures_generation(BEDS)}", count_beds)
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
