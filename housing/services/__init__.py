"""Every change to housing, a module per noun: allocations (allocate, move one person or a
household, check out, undo) and houses (the estate of houses, rooms and beds, and a house's
status). The modules import one another directly; this package re-exports their public names
for the callers (views, admin, demo data, tests)."""

from housing.services.allocations import (
    CHANGE_PERMISSION,
    Occupant,
    allocation_check_out,
    allocation_create,
    allocation_transfer,
    allocation_undo,
    household_allocate,
    household_move,
    is_housing_coordinator,
    may_undo,
    undo_window,
)
from housing.services.common import BedNoLongerFreeError, HousingError
from housing.services.houses import (
    HOUSE_CLEAR_FIELDS,
    HOUSE_EDITABLE_FIELDS,
    HOUSE_PROTECTED_FIELDS,
    bed_create,
    bed_set_active,
    house_create,
    house_mark_compromised,
    house_set_status,
    house_update,
    room_create,
)

__all__ = [
    "CHANGE_PERMISSION",
    "HOUSE_CLEAR_FIELDS",
    "HOUSE_EDITABLE_FIELDS",
    "HOUSE_PROTECTED_FIELDS",
    "BedNoLongerFreeError",
    "HousingError",
    "Occupant",
    "allocation_check_out",
    "allocation_create",
    "allocation_transfer",
    "allocation_undo",
    "bed_create",
    "bed_set_active",
    "house_create",
    "house_mark_compromised",
    "house_set_status",
    "house_update",
    "household_allocate",
    "household_move",
    "is_housing_coordinator",
    "may_undo",
    "room_create",
    "undo_window",
]
