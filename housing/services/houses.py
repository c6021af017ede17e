"""Changes to the housing estate itself: creating and editing houses, adding rooms and beds,
taking a bed out of use, and a house's status (marking it compromised, closing or reopening it)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import require_permission
from audit.services import audit_context
from housing.models import Allocation, Bed, House, HouseStatus, Room
from housing.selectors import current_allocations, in_force, relocation_list
from housing.services.common import HousingError

# The fields of a house a coordinator edits; status changes go through house_set_status() and
# house_mark_compromised().
HOUSE_CLEAR_FIELDS = ("code_name", "town", "country")
HOUSE_PROTECTED_FIELDS = ("address", "contact_person", "notes")
HOUSE_EDITABLE_FIELDS = HOUSE_CLEAR_FIELDS + HOUSE_PROTECTED_FIELDS


def _clean_text(value: str | None) -> str:
    return (value or "").strip()


def _check_code_name(code_name: str, *, exclude: House | None = None) -> str:
    code_name = _clean_text(code_name)
    if not code_name:
        raise HousingError(_("Give the house a code name."))
    others = House.objects.filter(code_name__iexact=code_name)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise HousingError(
            _("Another house is already called %(code_name)s: choose another code name.")
            % {"code_name": code_name}
        )
    return code_name


def _save_unique(obj, message: str) -> None:
    """Save under a savepoint; a unique constraint lost to a concurrent request is a message."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        raise HousingError(message) from error


@transaction.atomic
def house_create(
    *,
    actor: User,
    code_name: str,
    town: str,
    country: str,
    address: str,
    contact_person: str = "",
    notes: str = "",
) -> House:
    require_permission(actor, "housing.add_house")
    code_name = _check_code_name(code_name)
    if not _clean_text(town):
        raise HousingError(_("Say in which town the house is."))
    if not _clean_text(address):
        raise HousingError(_("Give the house's address."))
    house = House(
        code_name=code_name,
        town=_clean_text(town),
        country=country,
        address=address.strip(),
        contact_person=_clean_text(contact_person) or None,
        notes=_clean_text(notes) or None,
    )
    with audit_context(actor=actor, action="housing.house_create"):
        _save_unique(house, _("Another house already has that code name."))
    return house


@transaction.atomic
def house_update(*, house: House, actor: User, **fields: str) -> House:
    """Change only the fields given. The address cannot be emptied; an empty contact person
    or notes clears them."""
    require_permission(actor, "housing.change_house")
    unknown = set(fields) - set(HOUSE_EDITABLE_FIELDS)
    if unknown:
        raise HousingError(
            _("These details cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    house = House.objects.select_for_update().get(pk=house.pk)
    if "code_name" in fields:
        house.code_name = _check_code_name(fields["code_name"], exclude=house)
    if "town" in fields:
        if not _clean_text(fields["town"]):
            raise HousingError(_("Say in which town the house is."))
        house.town = _clean_text(fields["town"])
    if "country" in fields:
        house.country = fields["country"]
    if "address" in fields:
        if not _clean_text(fields["address"]):
            raise HousingError(_("A house cannot be left without an address."))
        house.address = fields["address"].strip()
    for name in ("contact_person", "notes"):
        if name in fields:
            setattr(house, name, _clean_text(fields[name]) or None)
    with audit_context(actor=actor, action="housing.house_update"):
        _save_unique(house, _("Another house already has that code name."))
    return house


@transaction.atomic
def room_create(*, house: House, actor: User, name: str) -> Room:
    require_permission(actor, "housing.add_room")
    name = _clean_text(name)
    if not name:
        raise HousingError(_("Give the room a name."))
    house = House.objects.select_for_update().get(pk=house.pk)
    if house.rooms.filter(name__iexact=name).exists():
        raise HousingError(
            _("%(house)s already has a room called %(room)s.")
            % {"house": house.code_name, "room": name}
        )
    room = Room(house=house, name=name)
    with audit_context(actor=actor, action="housing.room_create"):
        _save_unique(room, _("That room name is already used in this house."))
    return room


@transaction.atomic
def bed_create(*, room: Room, actor: User, label: str) -> Bed:
    require_permission(actor, "housing.add_bed")
    label = _clean_text(label)
    if not label:
        raise HousingError(_("Give the bed a label."))
    room = Room.objects.select_for_update().select_related("house").get(pk=room.pk)
    if room.beds.filter(label__iexact=label).exists():
        raise HousingError(
            _("%(room)s already has a bed labelled %(bed)s.") % {"room": room, "bed": label}
        )
    bed = Bed(room=room, label=label)
    with audit_context(actor=actor, action="housing.bed_create"):
        _save_unique(bed, _("That bed label is already used in this room."))
    return bed


@transaction.atomic
def bed_set_active(*, bed: Bed, actor: User, active: bool) -> Bed:
    """Take a bed out of use (nobody may be in it or booked into it) or put it back."""
    require_permission(actor, "housing.change_bed")
    # The house first, then the bed: the order an allocation locks in (allocations.py
    # _lock_target_beds), so that the two wait for each other instead of deadlocking.
    house_id = Bed.objects.filter(pk=bed.pk).values_list("room__house_id", flat=True).get()
    House.objects.select_for_update().get(pk=house_id)
    bed = Bed.objects.select_for_update(of=("self",)).select_related("room__house").get(pk=bed.pk)
    if bed.active == active:
        raise HousingError(
            _("Bed %(bed)s is already in use.") % {"bed": bed}
            if active
            else _("Bed %(bed)s is already out of use.") % {"bed": bed}
        )
    if not active:
        # A stay running now or booked for later still needs the bed.
        from_now = DateTimeTZRange(timezone.now(), None, "[)")
        if in_force().filter(bed=bed, stay__overlap=from_now).exists():
            raise HousingError(
                _("Someone is staying in or booked into bed %(bed)s: move them first.")
                % {"bed": bed}
            )
    bed.active = active
    with audit_context(
        actor=actor, action="housing.bed_active" if active else "housing.bed_inactive"
    ):
        bed.save(update_fields=["active"])
    return bed


@transaction.atomic
def house_mark_compromised(*, house: House, actor: User, reason: str) -> list[Allocation]:
    """Stop all new allocations to the house at once and return the relocation list: everyone
    in it today, highest risk first."""
    require_permission(actor, "housing.change_house")
    if not reason.strip():
        raise HousingError(_("Say why the house is compromised."))
    house = House.objects.select_for_update().get(pk=house.pk)
    if house.status == HouseStatus.COMPROMISED:
        raise HousingError(
            _("%(house)s is already marked compromised.") % {"house": house.code_name}
        )
    house.status, house.status_reason = HouseStatus.COMPROMISED, reason.strip()
    house.status_changed_at, house.status_changed_by = timezone.now(), actor
    with audit_context(actor=actor, action="housing.compromised"):
        house.save(
            update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"]
        )
    return relocation_list(house=house)


@transaction.atomic
def house_set_status(*, house: House, actor: User, status: str, reason: str = "") -> House:
    """Close or reopen a house (a compromised house is reopened only with a reason)."""
    require_permission(actor, "housing.change_house")
    house = House.objects.select_for_update().get(pk=house.pk)
    if status not in HouseStatus.values or status == HouseStatus.COMPROMISED:
        raise HousingError(_("Use 'mark compromised' to mark a house compromised."))
    if status == house.status:
        raise HousingError(_("The house already has that status."))
    if status == HouseStatus.CLOSED and current_allocations(house=house).exists():
        raise HousingError(
            _("People are still staying in this house: move or check them out first.")
        )
    if not reason.strip():
        raise HousingError(_("Give a reason for the change."))
    house.status, house.status_reason = status, reason.strip()
    house.status_changed_at, house.status_changed_by = timezone.now(), actor
    with audit_context(actor=actor, action="housing.house_status"):
        house.save(
            update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"]
        )
    return house
