"""Who handles a journey: the coordinators hand it to other members of the case's team, and a
handler taken off the team stops handling it (journeys/selectors.py and common.may_handle no
longer let them in) while the coordinators are told to choose another."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role, require_permission
from audit.services import audit_context
from cases.models import Case
from journeys.models import Journey, JourneyStatus
from journeys.services.common import JourneyError, journey_link, lock
from journeys.services.plans import check_handlers
from notifications.services import notify


@transaction.atomic
def journey_handlers_change(
    *, journey: Journey, actor: User, lead_handler: User, backup_handler: User
) -> Journey:
    """A coordinator names the journey's two handlers again: two people, each active, allowed to
    handle journeys and on the case's team (as at planning). The new handlers are told."""
    require_permission(actor, "journeys.plan_journey")
    # The case, then the journey (common.lock): a removal from the team either comes before the
    # check below or waits for the change and then sees it.
    journey = lock(journey)
    if not journey.is_active:
        raise JourneyError(_("This journey has already ended."))
    check_handlers(journey.case, lead_handler, backup_handler)
    before = {journey.lead_handler_id, journey.backup_handler_id}
    if (journey.lead_handler_id, journey.backup_handler_id) == (
        lead_handler.pk,
        backup_handler.pk,
    ):
        return journey
    journey.lead_handler, journey.backup_handler = lead_handler, backup_handler
    with audit_context(actor=actor, action="journey.handlers_changed"):
        journey.save(update_fields=["lead_handler", "backup_handler"])
    new = [handler for handler in (lead_handler, backup_handler) if handler.pk not in before]
    if new:
        notify(
            kind="journeys.handler_named",
            recipients=new,
            # One alert per change: the same pair named again later is told again.
            event_key=f"journeys.handler_named:{journey.pk}:{timezone.now().isoformat()}",
            parameters={"case": journey.case.code},
            link=journey_link(journey.pk),
        )
    return journey


def journey_handler_left_team(*, case: Case, user: User) -> list[Journey]:
    """Cases took `user` off the case's team (in its transaction): every journey of the case in
    progress that they handle needs another handler. They no longer see or handle it; the
    coordinators are told at once, by the case's code and a link, to choose another."""
    journeys = list(
        Journey.objects.filter(case=case, status=JourneyStatus.ACTIVE).filter(
            Q(lead_handler=user) | Q(backup_handler=user)
        )
    )
    for journey in journeys:
        notify(
            kind="journeys.handler_left",
            recipients=[Role.JOURNEY_COORDINATOR],
            # One alert per departure: a handler taken off, put back and taken off again is
            # heard of twice.
            event_key=f"journeys.handler_left:{journey.pk}:{user.pk}:{timezone.now().isoformat()}",
            parameters={"case": case.code},
            link=journey_link(journey.pk),
        )
    return journeys
