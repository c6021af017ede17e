"""Allocations: giving a bed to one person or a household, transferring, checking out. The
database's exclusion constraints are the last word on double-booking; these functions turn their
refusals into messages a coordinator can act on."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.postgres.fields.ranges import DateRange
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import require_permission
from audit.services import audit_context
from cases.choices import Status as CaseStatus
from cases.models import Case, FamilyMember
from housing.models import Allocation, Bed, House, HouseStatus
from housing.services.common import BedNoLongerFreeError, HousingError

CHANGE_PERMISSION = "housing.change_allocation"


@dataclass(frozen=True)
class Occupant:
    """A case's own person (family_member None) or one of its family members."""

    case: Case
    family_member: FamilyMember | None = None

    @property
    def label(self) -> str:
        return (
            self.case.code
            if self.family_member is None
            else f"{self.case.code}/F{self.family_member.pk}"
        )


def _stay(start: datetime.date, end: datetime.date | None) -> DateRange:
    if end is not None and end <= start:
        raise HousingError(_("The end of a stay must be after its start."))
    return DateRange(start, end, "[)")


def _check_bed(bed: Bed) -> None:
    if not bed.active:
        raise HousingError(_("Bed %(bed)s is not in use.") % {"bed": bed})
    house = bed.room.house
    if house.status != HouseStatus.ACTIVE:
        raise HousingError(
            _("%(house)s is %(status)s: it takes no new allocation.")
            % {"house": house.code_name, "status": house.get_status_display().lower()}
        )


def _check_occupant(occupant: Occupant) -> None:
    if occupant.case.status != CaseStatus.VERIFIED:
        raise HousingError(
            _("%(code)s is not verified: only verified cases can be housed.")
            % {"code": occupant.case.code}
        )
    if occupant.family_member is not None and occupant.family_member.case_id != occupant.case.pk:
        raise HousingError(
            _("That family member does not belong to %(code)s.") % {"code": occupant.case.code}
        )


def _insert(allocation: Allocation, occupant: Occupant) -> Allocation:
    """Insert under a savepoint, so a constraint refusal leaves the transaction usable."""
    try:
        with transaction.atomic():
            allocation.save()
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or str(
            error
        )
        if "person_in_one_bed_at_a_time" in constraint:
            raise HousingError(
                _("%(occupant)s already has a bed for (part of) that time.")
                % {"occupant": occupant.label}
            ) from error
        if "bed_never_double_booked" in constraint:
            raise BedNoLongerFreeError(
                _(
                    "Bed %(bed)s is no longer free for that time: someone else was just given it."
                    " Choose another bed."
                )
                % {"bed": allocation.bed}
            ) from error
        raise
    return allocation


@transaction.atomic
def household_allocate(
    *,
    actor: User,
    placements: list[tuple[Occupant, Bed]],
    start: datetime.date,
    end: datetime.date | None = None,
) -> list[Allocation]:
    """Give each occupant a bed, all or nothing: one refusal and nobody is allocated."""
    require_permission(actor, CHANGE_PERMISSION)
    if not placements:
        raise HousingError(_("Choose at least one person and a bed for them."))
    beds = [bed for _occupant, bed in placements]
    if len({bed.pk for bed in beds}) != len(beds):
        raise HousingError(_("Each person needs a bed of their own."))
    stay = _stay(start, end)
    # Lock the houses so that a house marked compromised meanwhile takes nobody new.
    locked_houses = {
        house.pk: house
        for house in House.objects.select_for_update().filter(
            pk__in={bed.room.house_id for bed in beds}
        )
    }
    created = []
    with audit_context(actor=actor, action="housing.allocate"):
        for occupant, bed in placements:
            bed = Bed.objects.select_related("room__house").get(pk=bed.pk)
            bed.room.house = locked_houses[bed.room.house_id]
            _check_bed(bed)
            _check_occupant(occupant)
            created.append(
                _insert(
                    Allocation(
                        bed=bed,
                        case=occupant.case,
                        family_member=occupant.family_member,
                        period=stay,
                        checked_in_by=actor,
                    ),
                    occupant,
                )
            )
    return created


def allocation_create(
    *,
    actor: User,
    occupant: Occupant,
    bed: Bed,
    start: datetime.date,
    end: datetime.date | None = None,
) -> Allocation:
    return household_allocate(actor=actor, placements=[(occupant, bed)], start=start, end=end)[0]


def _end_stay(allocation: Allocation, *, actor: User, on: datetime.date) -> Allocation:
    lower = allocation.period.lower
    if on <= lower:
        raise HousingError(
            _("A check-out must be after the check-in (%(date)s).") % {"date": lower}
        )
    if allocation.period.upper is not None and allocation.period.upper <= on:
        raise HousingError(_("This stay has already ended."))
    allocation.period = DateRange(lower, on, "[)")
    allocation.checked_out_by, allocation.checked_out_at = actor, timezone.now()
    allocation.save(update_fields=["period", "checked_out_by", "checked_out_at"])
    return allocation


@transaction.atomic
def allocation_check_out(
    *, allocation: Allocation, actor: User, on: datetime.date | None = None
) -> Allocation:
    require_permission(actor, CHANGE_PERMISSION)
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    with audit_context(actor=actor, action="housing.check_out"):
        return _end_stay(allocation, actor=actor, on=on or timezone.localdate())


@transaction.atomic
def allocation_transfer(
    *,
    allocation: Allocation,
    actor: User,
    to_bed: Bed,
    on: datetime.date | None = None,
    reason: str,
) -> Allocation:
    """Move a person: check out of the old bed and into the new one, both or neither."""
    require_permission(actor, CHANGE_PERMISSION)
    if not reason.strip():
        raise HousingError(_("Say why the person is moved."))
    on = on or timezone.localdate()
    allocation = (
        Allocation.objects.select_for_update(of=("self",))
        .select_related("case", "family_member")
        .get(pk=allocation.pk)
    )
    if allocation.bed_id == to_bed.pk:
        raise HousingError(_("The person is already in that bed."))
    occupant = Occupant(allocation.case, allocation.family_member)
    with audit_context(actor=actor, action="housing.transfer"):
        _end_stay(allocation, actor=actor, on=on)
        house = House.objects.select_for_update().get(pk=to_bed.room.house_id)
        to_bed = Bed.objects.select_related("room").get(pk=to_bed.pk)
        to_bed.room.house = house
        _check_bed(to_bed)
        return _insert(
            Allocation(
                bed=to_bed,
                case=occupant.case,
                family_member=occupant.family_member,
                period=DateRange(on, None, "[)"),
                checked_in_by=actor,
                move_reason=reason.strip(),
            ),
            occupant,
        )
