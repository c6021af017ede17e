"""What the journey services share: the error a person can read, who may handle a journey, the
lock every change to a journey takes first, and the alerts' recipients and links."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from cases.models import Case
from cases.services import on_team
from journeys.models import Journey
from notifications.services import notify


class JourneyError(Exception):
    """A change refused for a reason a person can read and act on."""


class RateLimited(JourneyError):
    """Too many code-word checks for one journey in the last hour."""


def is_handler(user: User, journey: Journey) -> bool:
    return user.pk in (journey.lead_handler_id, journey.backup_handler_id)


def may_handle(user: User | None, journey: Journey) -> bool:
    """A coordinator watches every journey; a handler only their own, while on the case's
    team (taken off it, they are told nothing more of it: journeys/services/handlers.py)."""
    if user is None or not user.is_active:
        return False
    if user.has_perm("journeys.watch_journeys"):
        return True
    return (
        user.has_perm("journeys.handle_journey")
        and is_handler(user, journey)
        and on_team(journey.case, user)
    )


def handlers_in_charge(journey: Journey) -> list[User]:
    """The journey's handlers who may still handle it (active, allowed, on the case's team):
    those its alerts go to. A handler taken off the team hears nothing more of it."""
    return [
        handler
        for handler in (journey.lead_handler, journey.backup_handler)
        if may_handle(handler, journey)
    ]


def handlers_out_of_charge(journey: Journey) -> list[User]:
    """The handlers of a journey in progress who may no longer handle it (off the case's team,
    switched off, or without the role), for the coordinators to replace."""
    if not journey.is_active:
        return []
    in_charge = handlers_in_charge(journey)
    return [
        handler
        for handler in (journey.lead_handler, journey.backup_handler)
        if handler not in in_charge
    ]


def require_handler(user: User | None, journey: Journey) -> None:
    if not may_handle(user, journey):
        raise PermissionDenied(_("Only the journey's handlers and the coordinators may do this."))


def lock(journey: Journey) -> Journey:
    """The journey's case, then the journey: the order cases' services take them in (a stage
    recorded locks the case, then its journey arrives), so that a duress check-in and an
    arrival at the same moment wait for each other instead of deadlocking."""
    Case.objects.select_for_update(of=("self",)).filter(pk=journey.case_id).first()
    return (
        Journey.objects.select_for_update(of=("self",))
        .select_related("case", "data_key")
        .get(pk=journey.pk)
    )


def journey_link(journey_id: int) -> str:
    return reverse("journeys:detail", kwargs={"pk": journey_id})


def tell_the_journeys_people(journey: Journey, *, kind: str, event_key: str) -> None:
    """An alert about `journey` to its two handlers and the journey coordinators: the case's
    code and a link to the journey, nothing else."""
    notify(
        kind=kind,
        recipients=[*handlers_in_charge(journey), Role.JOURNEY_COORDINATOR],
        event_key=event_key,
        parameters={"case": journey.case.code},
        link=journey_link(journey.pk),
    )


def incident_link(journey_id: int, escalation_id: int) -> str:
    return reverse("journeys:incident", kwargs={"pk": journey_id, "escalation_pk": escalation_id})
