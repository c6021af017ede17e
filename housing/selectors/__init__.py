"""Reads of housing with their queries decided once: stays (stays.py), the waiting list
(waiting.py), the board and the houses list (occupancy.py), histories, bed-nights and the
dashboard's figures (reports.py). Occupants are shown by case code only."""

from housing.selectors.occupancy import (
    BoardBed,
    BoardOccupant,
    BoardRoom,
    HouseOccupancy,
    board_houses,
    free_beds,
    occupancy_of,
    occupancy_total,
    towns,
)
from housing.selectors.reports import (
    BedNights,
    OccupancySummary,
    StayFigures,
    bed_nights_per_month,
    case_history,
    house_history,
    house_occupancy,
    occupancy_summary,
    person_history,
    stay_figures,
)
from housing.selectors.stays import (
    RISK_ORDER,
    STAGES_NEEDING_A_BED,
    current_allocations,
    household_stays,
    in_force,
    moment_of,
    relocation_list,
    staying_at,
)
from housing.selectors.waiting import (
    WaitingEntry,
    WaitingList,
    waiting_list,
)

__all__ = [
    "RISK_ORDER",
    "STAGES_NEEDING_A_BED",
    "BedNights",
    "BoardBed",
    "BoardOccupant",
    "BoardRoom",
    "HouseOccupancy",
    "OccupancySummary",
    "StayFigures",
    "WaitingEntry",
    "WaitingList",
    "bed_nights_per_month",
    "board_houses",
    "case_history",
    "current_allocations",
    "free_beds",
    "house_history",
    "house_occupancy",
    "household_stays",
    "in_force",
    "moment_of",
    "occupancy_of",
    "occupancy_summary",
    "occupancy_total",
    "person_history",
    "relocation_list",
    "stay_figures",
    "staying_at",
    "towns",
    "waiting_list",
]
