"""The debrief of a journey that arrived: what went wrong, which contingency steps were used, how
long each leg took and which channels worked. Recorded by a handler or a coordinator, and
corrected by them until the journey is minimised (its notes are under the journey's key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_context
from journeys.models import (
    Channel,
    ContingencyKind,
    Debrief,
    Journey,
    JourneyStatus,
    Leg,
    Problem,
)
from journeys.services.common import JourneyError, lock, require_handler

MAX_LEG_HOURS = Decimal("2000")
MAX_NOTES = 4000


@dataclass(frozen=True)
class DebriefAnswers:
    problems: list[str] = field(default_factory=list)
    contingency_used: list[str] = field(default_factory=list)
    channels_worked: list[str] = field(default_factory=list)
    channels_failed: list[str] = field(default_factory=list)
    # Leg position -> hours it took (None: not known).
    leg_hours: dict[int, Decimal | None] = field(default_factory=dict)
    notes: str = ""


def _only(values: list[str], allowed: list[str], message: str) -> list[str]:
    """The values in the order of their choices, once each; anything else is refused."""
    chosen = set(values)
    if not chosen <= set(allowed):
        raise JourneyError(message)
    return [value for value in allowed if value in chosen]


def _check(answers: DebriefAnswers, legs: dict[int, Leg]) -> DebriefAnswers:
    worked = _only(answers.channels_worked, Channel.values, _("Choose channels from the list."))
    failed = _only(answers.channels_failed, Channel.values, _("Choose channels from the list."))
    if set(worked) & set(failed):
        raise JourneyError(_("A channel cannot both have worked and have failed."))
    if set(answers.leg_hours) - set(legs):
        raise JourneyError(_("The journey has no such leg."))
    for hours in answers.leg_hours.values():
        if hours is not None and not (0 <= hours <= MAX_LEG_HOURS):
            raise JourneyError(_("Give each leg's hours as a number from 0 to 2000."))
    if len(answers.notes) > MAX_NOTES:
        raise JourneyError(_("Keep the notes under 4,000 characters."))
    return DebriefAnswers(
        problems=_only(
            answers.problems, Problem.values, _("Choose what went wrong from the list.")
        ),
        contingency_used=_only(
            answers.contingency_used,
            ContingencyKind.values,
            _("Choose contingency steps from the list."),
        ),
        channels_worked=worked,
        channels_failed=failed,
        leg_hours=answers.leg_hours,
        notes=answers.notes.strip(),
    )


@transaction.atomic
def debrief_record(*, journey: Journey, actor: User, answers: DebriefAnswers) -> Debrief:
    """Record (or correct) the debrief of a journey that arrived; refused before arrival, for a
    cancelled journey and once the journey is minimised."""
    journey = lock(journey)
    require_handler(actor, journey)
    if journey.status != JourneyStatus.ARRIVED:
        raise JourneyError(_("A debrief is recorded once the person has arrived."))
    if journey.is_minimised:
        raise JourneyError(_("This journey was minimised: its debrief can no longer be changed."))
    legs = {leg.position: leg for leg in Leg.objects.select_for_update().filter(journey=journey)}
    answers = _check(answers, legs)
    debrief = Debrief.objects.select_for_update().filter(journey=journey).first()
    with audit_context(actor=actor, action="journey.debrief"):
        if debrief is None:
            debrief = Debrief(journey=journey, recorded_by=actor)
        debrief.problems = answers.problems
        debrief.contingency_used = answers.contingency_used
        debrief.channels_worked = answers.channels_worked
        debrief.channels_failed = answers.channels_failed
        debrief.notes = answers.notes or None
        debrief.save()
        for position, hours in answers.leg_hours.items():
            leg = legs[position]
            if leg.hours_taken != hours:
                leg.hours_taken = hours
                leg.save(update_fields=["hours_taken"])
    return debrief
