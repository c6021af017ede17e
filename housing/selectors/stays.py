"""Stays: the moment a day stands for, stays in force, who is where today, a house's relocation
list and a household's stays."""

from __future__ import annotations

import datetime

from django.db.models import (
    Case as When_,
)
from django.db.models import (
    F,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from cases.choices import JourneyStage, RiskLevel
from cases.models import Case
from housing.models import IN_FORCE, Allocation, House

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
