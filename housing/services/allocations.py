"""Allocations: giving a bed to one person or a household, moving people (one or a household at
once), checking out, and undoing a wrong allocation. The database's exclusion constraints are
the last word on double-booking; these functions turn their refusals into messages a coordinator
can act on.

A stay runs from one moment to another. A day typed on a form means "now" when it is today
(so a person placed this morning can move this afternoon) and that day's midnight otherwise."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role, require_permission
from audit.services import audit_context
from cases.choices import Status as CaseStatus
from cases.models import Case, FamilyMember
from cases.services.journey import case_arrival_by_placement_undone, case_arrived_by_placement
from housing.models import Allocation, Bed, House, HouseStatus, occupant_label
from housing.selectors import moment_of
from housing.services.common import BedNoLongerFreeError, HousingError

CHANGE_PERMISSION = "housing.change_allocation"


@dataclass(frozen=True)
class Occupant:
    """A case's own person (family_member None) or one of its family members."""

    case: Case
    family_member: FamilyMember | None = None

    @property
    def label(self) -> str:
        member = self.family_member
        return occupant_label(self.case.code, member.pk if member is not None else None)


def _when(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _stay(start: datetime.date, end: datetime.date | None) -> DateTimeTZRange:
    if end is not None and end <= start:
        raise HousingError(_("The end of a stay must be after its start."))
    return DateTimeTZRange(moment_of(start), moment_of(end) if end else None, "[)")


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


def _constraint_refused(error: IntegrityError) -> str:
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or str(error)


def _insert(allocation: Allocation, occupant: Occupant) -> Allocation:
    """Insert under a savepoint, so a constraint refusal leaves the transaction usable."""
    try:
        with transaction.atomic():
            allocation.save()
    except IntegrityError as error:
        constraint = _constraint_refused(error)
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


def _lock_target_beds(beds: list[Bed]) -> list[Bed]:
    """The beds with their houses locked (in a fixed order, so that concurrent calls cannot
    deadlock): a house marked compromised meanwhile takes nobody new."""
    houses = {
        house.pk: house
        for house in House.objects.select_for_update()
        .filter(pk__in={bed.room.house_id for bed in beds})
        .order_by("pk")
    }
    fresh = Bed.objects.select_related("room").in_bulk([bed.pk for bed in beds])
    locked = []
    for bed in beds:
        bed = fresh[bed.pk]
        bed.room.house = houses[bed.room.house_id]
        _check_bed(bed)
        locked.append(bed)
    return locked


def _lock_cases(occupants: list[Occupant]) -> None:
    """Lock the occupants' cases (after their houses, in a fixed order) and read their status
    again: a case withdrawn while the page was open is not housed, and a withdrawal waits for
    the allocation."""
    cases = {
        case.pk: case
        for case in Case.objects.select_for_update(of=("self",))
        .filter(pk__in={occupant.case.pk for occupant in occupants})
        .only("pk", "status")
        .order_by("pk")
    }
    for occupant in occupants:
        occupant.case.status = cases[occupant.case.pk].status


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
    beds = _lock_target_beds(beds)
    _lock_cases([occupant for occupant, _bed in placements])
    stay = _stay(start, end)
    created = []
    with audit_context(actor=actor, action="housing.allocate"):
        for (occupant, _bed), bed in zip(placements, beds, strict=True):
            _check_occupant(occupant)
            created.append(
                _insert(
                    Allocation(
                        bed=bed,
                        case=occupant.case,
                        family_member=occupant.family_member,
                        stay=stay,
                        checked_in_by=actor,
                    ),
                    occupant,
                )
            )
    if stay.lower <= timezone.now():
        # A bed from today on is the person's arrival at a safe location (cases records it);
        # a family member's bed is not the defector's arrival.
        people = {
            occupant.case.pk: occupant.case
            for occupant, _bed in placements
            if occupant.family_member is None
        }
        for case in people.values():
            case_arrived_by_placement(case=case, actor=actor)
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


def _end_stay(allocation: Allocation, *, actor: User, at: datetime.datetime) -> Allocation:
    """End a locked stay at the moment given (a check-out, or the first half of a move)."""
    if allocation.cancelled:
        raise HousingError(_("This stay was cancelled."))
    lower, upper = allocation.stay.lower, allocation.stay.upper
    if upper is not None and upper <= at:
        raise HousingError(_("This stay has already ended."))
    if at <= lower:
        raise HousingError(
            _("A check-out must be after the check-in (%(date)s).") % {"date": _when(lower)}
        )
    allocation.stay = DateTimeTZRange(lower, at, "[)")
    allocation.checked_out_by, allocation.checked_out_at = actor, timezone.now()
    allocation.save(update_fields=["stay", "checked_out_by", "checked_out_at"])
    return allocation


@transaction.atomic
def allocation_check_out(
    *, allocation: Allocation, actor: User, on: datetime.date | None = None
) -> Allocation:
    """End a stay: today means now (even for a stay that began this morning), another day
    means that day's midnight."""
    require_permission(actor, CHANGE_PERMISSION)
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    with audit_context(actor=actor, action="housing.check_out"):
        return _end_stay(allocation, actor=actor, at=moment_of(on))


@transaction.atomic
def household_move(
    *,
    actor: User,
    moves: list[tuple[Allocation, Bed]],
    reason: str,
    on: datetime.date | None = None,
) -> list[Allocation]:
    """Move people, each from their stay to a bed, all or nothing: every old stay ends and
    every new one starts at the same moment, or nothing changes. People may swap beds."""
    require_permission(actor, CHANGE_PERMISSION)
    if not reason.strip():
        raise HousingError(_("Say why the person is moved."))
    if not moves:
        raise HousingError(_("Choose at least one person and a bed for them."))
    if len({allocation.pk for allocation, _bed in moves}) != len(moves):
        raise HousingError(_("Each person can be moved only once at a time."))
    if len({bed.pk for _allocation, bed in moves}) != len(moves):
        raise HousingError(_("Each person needs a bed of their own."))
    # The stays first, in a fixed order, then the houses: the order every mover follows.
    stays = Allocation.objects.select_for_update(of=("self",)).select_related(
        "case", "family_member", "bed__room__house"
    )
    locked = {
        stay.pk: stay for stay in stays.filter(pk__in=[a.pk for a, _b in moves]).order_by("pk")
    }
    if len(locked) != len(moves):
        raise HousingError(_("One of these stays no longer exists."))
    beds = _lock_target_beds([bed for _allocation, bed in moves])
    at = moment_of(on)  # after the locks: later than any change they waited for
    old_stays = [locked[allocation.pk] for allocation, _bed in moves]
    for old, bed in zip(old_stays, beds, strict=True):
        if old.bed_id == bed.pk:
            raise HousingError(
                _("%(occupant)s is already in bed %(bed)s.")
                % {"occupant": old.occupant_label, "bed": bed}
            )
    action = "housing.transfer" if len(moves) == 1 else "housing.household_move"
    created = []
    with audit_context(actor=actor, action=action):
        # Every old stay ends before any new one starts, so that people may swap beds.
        planned_ends = [old.stay.upper for old in old_stays]
        for old in old_stays:
            _end_stay(old, actor=actor, at=at)
        for old, bed, planned_end in zip(old_stays, beds, planned_ends, strict=True):
            created.append(
                _insert(
                    Allocation(
                        bed=bed,
                        case=old.case,
                        family_member=old.family_member,
                        stay=DateTimeTZRange(at, planned_end, "[)"),
                        checked_in_by=actor,
                        move_reason=reason.strip(),
                        moved_from=old,
                    ),
                    Occupant(old.case, old.family_member),
                )
            )
    return created


def allocation_transfer(
    *,
    allocation: Allocation,
    actor: User,
    to_bed: Bed,
    on: datetime.date | None = None,
    reason: str,
) -> Allocation:
    """Move a person: check out of the old bed and into the new one, both or neither."""
    return household_move(actor=actor, moves=[(allocation, to_bed)], reason=reason, on=on)[0]


def undo_window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.HAVEN_ALLOCATION_UNDO_MINUTES)


def is_housing_coordinator(actor: User) -> bool:
    return actor.groups.filter(name=Role.HOUSING_COORDINATOR).exists()


def may_undo(allocation: Allocation, actor: User, *, coordinator: bool) -> bool:
    """Whether a page offers to undo the stay: made within the window, by the actor or the
    actor is a housing coordinator (`coordinator`, found once per page), and nothing has
    happened to it since. allocation_undo() checks it all again."""
    return (
        not allocation.cancelled
        and allocation.checked_out_at is None
        and timezone.now() - allocation.created_at <= undo_window()
        and actor.has_perm(CHANGE_PERMISSION)
        and (allocation.checked_in_by_id == actor.pk or coordinator)
    )


@transaction.atomic
def allocation_undo(*, allocation: Allocation, actor: User, reason: str) -> Allocation:
    """Cancel a wrong allocation or move shortly after it was made (never delete it): the stay
    stays in the history, cancelled, with who and why; it no longer holds the bed or the person.
    Undoing a move gives the person back the bed they came from."""
    require_permission(actor, CHANGE_PERMISSION)
    if not reason.strip():
        raise HousingError(_("Say why the allocation is undone."))
    allocation = (
        Allocation.objects.select_for_update(of=("self",))
        .select_related("case", "family_member", "bed__room__house")
        .get(pk=allocation.pk)
    )
    if allocation.cancelled:
        raise HousingError(_("This allocation has already been undone."))
    if allocation.checked_in_by_id != actor.pk and not is_housing_coordinator(actor):
        raise HousingError(
            _("Only the person who made the allocation or a housing coordinator can undo it.")
        )
    minutes = settings.HAVEN_ALLOCATION_UNDO_MINUTES
    if timezone.now() - allocation.created_at > undo_window():
        raise HousingError(
            _(
                "An allocation can be undone only within %(minutes)d minutes of being made:"
                " check the person out or move them instead."
            )
            % {"minutes": minutes}
        )
    if allocation.checked_out_at is not None:
        raise HousingError(
            _("This person has since been checked out or moved: undo that first, or move them.")
        )
    allocation.cancelled_at, allocation.cancelled_by = timezone.now(), actor
    allocation.cancel_reason = reason.strip()
    with audit_context(actor=actor, action="housing.undo"):
        allocation.save(update_fields=["cancelled_at", "cancelled_by", "cancel_reason"])
        if allocation.moved_from_id is not None:
            _reopen(allocation)
        elif allocation.family_member_id is None:
            # If this bed recorded the person's arrival, cases takes it back (and journeys
            # starts the check-in clock again): they are not in a safe house after all.
            case_arrival_by_placement_undone(
                case=allocation.case, actor=actor, placed_at=allocation.created_at
            )
    return allocation


def _reopen(cancelled_move: Allocation) -> None:
    """Give back the stay a cancelled move ended, as it was planned before the move."""
    previous = (
        Allocation.objects.select_for_update(of=("self",))
        .select_related("bed__room__house")
        .get(pk=cancelled_move.moved_from_id)
    )
    house = previous.bed.room.house
    if house.status != HouseStatus.ACTIVE:
        # Never put someone back into a compromised (or closed) house by an undo.
        raise HousingError(
            _("%(house)s is %(status)s: move the person to the right bed instead of undoing.")
            % {"house": house.code_name, "status": house.get_status_display().lower()}
        )
    if previous.stay.upper != cancelled_move.stay.lower:
        raise HousingError(_("The stay before this move has changed since: move the person."))
    previous.stay = DateTimeTZRange(previous.stay.lower, cancelled_move.stay.upper, "[)")
    previous.checked_out_by, previous.checked_out_at = None, None
    try:
        with transaction.atomic():
            previous.save(update_fields=["stay", "checked_out_by", "checked_out_at"])
    except IntegrityError as error:
        if "bed_never_double_booked" in _constraint_refused(error):
            raise BedNoLongerFreeError(
                _(
                    "The bed the person came from has been given to someone else since:"
                    " move the person instead."
                )
            ) from error
        raise
