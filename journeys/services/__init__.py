"""Every change to a journey, a module per noun; the public names are re-exported here, so that
callers write `from journeys import services`. Modules of this package import each other
directly, never through this one."""

from journeys.services.check_ins import check_in_record
from journeys.services.code_words import code_word_check, normalise_word
from journeys.services.common import (
    JourneyError,
    RateLimited,
    handlers_out_of_charge,
    is_handler,
    may_handle,
    require_handler,
)
from journeys.services.debriefs import DebriefAnswers, debrief_record
from journeys.services.escalation import escalation_sweep, incident_acknowledge, step_delays
from journeys.services.handlers import journey_handler_left_team, journey_handlers_change
from journeys.services.minimisation import journey_minimise, minimisation_sweep
from journeys.services.plans import (
    MIN_WORD_LENGTH,
    ContingencyPlan,
    LegPlan,
    check_code_words,
    journey_arrive_with_case,
    journey_cancel,
    journey_mark_arrived,
    journey_plan,
    journey_resume_with_case,
    journeys_erase_with_case,
    window_times,
)

__all__ = [
    "MIN_WORD_LENGTH",
    "ContingencyPlan",
    "DebriefAnswers",
    "JourneyError",
    "LegPlan",
    "RateLimited",
    "check_code_words",
    "check_in_record",
    "code_word_check",
    "debrief_record",
    "escalation_sweep",
    "handlers_out_of_charge",
    "incident_acknowledge",
    "is_handler",
    "journey_arrive_with_case",
    "journey_cancel",
    "journey_handler_left_team",
    "journey_handlers_change",
    "journey_mark_arrived",
    "journey_minimise",
    "journey_plan",
    "journey_resume_with_case",
    "journeys_erase_with_case",
    "may_handle",
    "minimisation_sweep",
    "normalise_word",
    "require_handler",
    "step_delays",
    "window_times",
]
