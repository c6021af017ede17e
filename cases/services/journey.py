"""The journey of a case: its stage, the emergency flag and the safety plan."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import require_permission
from audit.services import audit_context
from cases.choices import JourneyEventKind, JourneyStage
from cases.models import Case, JourneyEvent
from cases.services.common import (
    STALE_EDIT_MESSAGE,
    CaseError,
    StaleEditError,
    _lock,
    require_team,
)
from cases.signals import case_arrival_undone, case_arrived


@transaction.atomic
def case_set_stage(*, case: Case, actor: User, stage: str, reason: str = "") -> Case:
    require_permission(actor, "cases.manage_safety")
    case = _lock(case)
    if stage not in JourneyStage.values:
        raise CaseError(_("Choose a journey stage."))
    if stage == case.journey_stage:
        raise CaseError(_("The case is already at that stage."))
    return _record_stage(case, actor=actor, stage=stage, reason=reason)


def _record_stage(case: Case, *, actor: User, stage: str, reason: str) -> Case:
    """On a locked case: the new stage, its journey event, and cases' arrival signal."""
    case.journey_stage = stage
    case.version += 1
    with audit_context(actor=actor, action="case.stage"):
        case.save(update_fields=["journey_stage", "version", "updated_at"])
        JourneyEvent.objects.create(
            case=case, kind=JourneyEventKind.STAGE, stage=stage, by=actor, reason=reason
        )
    if stage == JourneyStage.ARRIVED:
        case_arrived.send(sender=Case, case=case, actor=actor)
    return case


# The stages a bed in a safe house ends: the person has arrived at a safe location.
BEFORE_ARRIVAL = (JourneyStage.CONTACTED, JourneyStage.IN_TRANSIT)


# Why the stage changed, when a bed did it (kept in the stage's event, as a person's reason is).
ARRIVED_BY_PLACEMENT = "A bed was given in a safe house."
PLACEMENT_UNDONE = "The bed that recorded the arrival was undone."


def case_arrived_by_placement(*, case: Case, actor: User) -> bool:
    """A bed given in a safe house is the person's arrival at a safe location: a case still
    contacted or in transit moves to "arrived" (recorded as the placer's) and cases' arrival
    signal goes out (journeys stops its clock). For the placing service, inside its transaction
    and after its own permission check; a case already further on is left as it is."""
    # Locked without _lock's refusal of an erased case: housing's own checks answer for that.
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.journey_stage not in BEFORE_ARRIVAL:
        return False
    _record_stage(case, actor=actor, stage=JourneyStage.ARRIVED, reason=ARRIVED_BY_PLACEMENT)
    return True


def case_arrival_by_placement_undone(*, case: Case, actor: User, placed_at) -> bool:
    """The bed given at `placed_at` was undone (housing's undo, inside its transaction and after
    its own checks). If that bed recorded the case's arrival and nothing changed the stage
    since, the arrival is taken back: the case returns to the stage it had before (a new stage
    event says why) and cases' arrival-undone signal goes out, so that journeys restarts the
    clock the arrival stopped. A person who is not in a safe house must not drop out of the
    check-ins because of a bed given by mistake. A stage set since, by hand or otherwise, is
    left as it is."""
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.journey_stage != JourneyStage.ARRIVED:
        return False
    # The latest stage event, and the one before it.
    events = list(
        JourneyEvent.objects.filter(case=case, kind=JourneyEventKind.STAGE).order_by("-at", "-pk")[
            :2
        ]
    )
    arrival = events[0] if events else None
    if (
        arrival is None
        or arrival.stage != JourneyStage.ARRIVED
        or arrival.reason != ARRIVED_BY_PLACEMENT
        or arrival.at < placed_at
    ):
        return False
    previous = events[1].stage if len(events) > 1 else JourneyStage.CONTACTED
    _record_stage(case, actor=actor, stage=previous, reason=PLACEMENT_UNDONE)
    case_arrival_undone.send(sender=Case, case=case, actor=actor, arrived_at=arrival.at)
    return True


def case_journey_plan_destroyed(*, case_id: int) -> None:
    """A journey plan of the case was destroyed at the end of its retention period: journeys'
    nightly minimisation calls this inside its transaction, so that the case's journey tab says
    when. Nobody did it by hand, so the event has no author."""
    JourneyEvent.objects.create(case_id=case_id, kind=JourneyEventKind.PLAN_DESTROYED, by=None)


@transaction.atomic
def case_set_emergency(*, case: Case, actor: User, emergency: bool, reason: str) -> Case:
    require_permission(actor, "cases.manage_safety")
    case = _lock(case)
    if case.emergency == emergency:
        raise CaseError(_("The emergency flag is already set that way."))
    if not reason.strip():
        raise CaseError(_("Say why the emergency flag changes."))
    case.emergency = emergency
    case.emergency_since = timezone.now() if emergency else None
    case.version += 1
    kind = JourneyEventKind.EMERGENCY_ON if emergency else JourneyEventKind.EMERGENCY_OFF
    with audit_context(actor=actor, action="case.emergency"):
        case.save(update_fields=["emergency", "emergency_since", "version", "updated_at"])
        JourneyEvent.objects.create(case=case, kind=kind, by=actor, reason=reason.strip())
    return case


@transaction.atomic
def case_update_safety_plan(*, case: Case, actor: User, version: int, safety_plan: str) -> Case:
    """The safety plan is the team's: it names places and people (the case manager is named on
    the case's team page, by another case manager)."""
    require_permission(actor, "cases.manage_safety")
    require_team(actor, case)
    case = _lock(case)
    if case.version != version:
        raise StaleEditError(STALE_EDIT_MESSAGE)
    case.safety_plan = safety_plan.strip() or None
    case.version += 1
    with audit_context(actor=actor, action="case.safety_plan"):
        case.save()
    return case
