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
from cases.signals import case_arrived


@transaction.atomic
def case_set_stage(*, case: Case, actor: User, stage: str, reason: str = "") -> Case:
    require_permission(actor, "cases.manage_safety")
    case = _lock(case)
    if stage not in JourneyStage.values:
        raise CaseError(_("Choose a journey stage."))
    if stage == case.journey_stage:
        raise CaseError(_("The case is already at that stage."))
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
