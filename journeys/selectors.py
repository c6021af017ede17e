"""Reads of journeys, with what each person may see applied once: coordinators see every
journey, handlers the ones they handle."""

from __future__ import annotations

from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from cases.models import Case
from journeys.models import CheckInWindow, Escalation, Journey, JourneyStatus, Step


def visible_journeys(user: User) -> QuerySet[Journey]:
    journeys = Journey.objects.all()
    if user.has_perm("journeys.watch_journeys"):
        return journeys
    if not user.has_perm("journeys.handle_journey"):
        return journeys.none()
    return journeys.filter(Q(lead_handler=user) | Q(backup_handler=user))


def journey_list(user: User, *, status: str = JourneyStatus.ACTIVE) -> QuerySet[Journey]:
    """Journeys with their case code, handlers, next window and open escalations, oldest
    overdue first."""
    now = timezone.now()
    waiting = Q(
        windows__checked_in_at__isnull=True,
        windows__stopped_at__isnull=True,
    )
    return (
        visible_journeys(user)
        .filter(status=status)
        .select_related("case", "lead_handler", "backup_handler")
        .annotate(
            next_due=Min("windows__due_at", filter=waiting),
            overdue=Count("windows", filter=waiting & Q(windows__grace_ends_at__lt=now)),
            open_escalations=Count(
                "escalations", filter=Q(escalations__closed_at__isnull=True), distinct=True
            ),
        )
        .order_by("next_due", "pk")
    )


def journey_detail(user: User, pk: int) -> Journey:
    return (
        visible_journeys(user)
        .select_related("case", "lead_handler", "backup_handler", "planned_by", "data_key")
        .get(pk=pk)
    )


def journey_windows(journey: Journey, *, limit: int = 12) -> list[CheckInWindow]:
    """The windows around now: the missed ones still waiting, then the next ones."""
    now = timezone.now()
    missed = list(
        journey.windows.filter(
            checked_in_at__isnull=True, stopped_at__isnull=True, grace_ends_at__lt=now
        ).order_by("due_at")[:limit]
    )
    upcoming = list(journey.windows.filter(grace_ends_at__gte=now).order_by("due_at")[:limit])
    return missed + upcoming


def journey_escalations(journey: Journey) -> QuerySet[Escalation]:
    return journey.escalations.select_related("window").order_by("-at", "step")


def incident_of(journey: Journey, escalation_pk: int) -> Escalation:
    return (
        journey.escalations.select_related("window")
        .prefetch_related("acknowledgements__by", "acknowledgements__contingency_step")
        .get(pk=escalation_pk, step=Step.CONTINGENCY)
    )


def possible_handlers(case: Case) -> QuerySet[User]:
    """The case's team members who may handle a journey (as journeys' service checks them)."""
    on_team = Q(pk__in=[case.intake_officer_id, case.verifier_id, case.case_manager_id]) | Q(
        case_teams__case=case
    )
    return (
        User.objects.with_perm(
            "journeys.handle_journey", backend="django.contrib.auth.backends.ModelBackend"
        )
        .filter(on_team, is_active=True)
        .distinct()
        .order_by("username")
    )


def journey_board(
    user: User, *, coordinator_id: int | None = None, handler_id: int | None = None
) -> QuerySet[Journey]:
    """Every journey in progress the user may see, with its next check-in due (the oldest one
    still waiting, so an overdue one shows how long it is overdue), the highest open escalation
    step: escalated first, then overdue, then by the next check-in. One query, whatever the
    number of journeys."""
    waiting = Q(windows__checked_in_at__isnull=True, windows__stopped_at__isnull=True)
    journeys = visible_journeys(user).filter(status=JourneyStatus.ACTIVE)
    if coordinator_id is not None:
        journeys = journeys.filter(planned_by_id=coordinator_id)
    if handler_id is not None:
        journeys = journeys.filter(Q(lead_handler_id=handler_id) | Q(backup_handler_id=handler_id))
    return (
        journeys.select_related("case", "lead_handler", "backup_handler", "planned_by")
        .annotate(
            next_due=Min("windows__due_at", filter=waiting),
            next_grace_ends=Min("windows__grace_ends_at", filter=waiting),
            escalation_step=Max("escalations__step", filter=Q(escalations__closed_at__isnull=True)),
        )
        .order_by(
            F("escalation_step").desc(nulls_last=True),
            F("next_due").asc(nulls_last=True),
            "pk",
        )
    )


def board_people(user: User) -> tuple[QuerySet[User], QuerySet[User]]:
    """The coordinators who planned, and the handlers of, the journeys in progress the user
    may see: the board's filters."""
    journeys = visible_journeys(user).filter(status=JourneyStatus.ACTIVE)
    coordinators = User.objects.filter(pk__in=journeys.values("planned_by_id"))
    handlers = User.objects.filter(
        Q(pk__in=journeys.values("lead_handler_id"))
        | Q(pk__in=journeys.values("backup_handler_id"))
    )
    return coordinators.order_by("username"), handlers.order_by("username")
