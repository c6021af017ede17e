"""Planning a journey, and the end of its clock: arrival (marked here, or the case's stage
"arrived at a safe location" through cases' signal) or cancellation."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import require_permission
from audit.services import audit_context
from cases.models import Case
from cases.services import on_team
from journeys.models import (
    Channel,
    CheckInWindow,
    ClosedReason,
    ContingencyKind,
    ContingencyStep,
    Escalation,
    Journey,
    JourneyStatus,
    Leg,
)
from journeys.services.code_words import normalise_word
from journeys.services.common import (
    JourneyError,
    lock,
    may_handle,
    tell_the_journeys_people,
)
from protection.erasure import destroy_data_key

MIN_WORD_LENGTH = 4
MAX_WINDOWS = 500
MAX_LEAD_TIME = datetime.timedelta(days=365)
MAX_JOURNEY = datetime.timedelta(days=60)


@dataclass(frozen=True)
class LegPlan:
    from_place: str
    to_place: str
    details: str = ""


@dataclass(frozen=True)
class ContingencyPlan:
    kind: str
    details: str
    house_code: str = ""


def check_code_words(all_clear_word: str, duress_word: str) -> tuple[str, str]:
    """The two words as they will be compared, or a JourneyError that says what is wrong."""
    all_clear, duress = normalise_word(all_clear_word), normalise_word(duress_word)
    if len(all_clear) < MIN_WORD_LENGTH or len(duress) < MIN_WORD_LENGTH:
        raise JourneyError(_("Each code word must have at least 4 characters."))
    if all_clear == duress:
        raise JourneyError(_("The duress word must differ from the all-clear word."))
    return all_clear, duress


def window_times(
    *,
    departure: datetime.datetime,
    arrival: datetime.datetime,
    every_hours: int | None,
    times_of_day: list[datetime.time] | None,
) -> list[datetime.datetime]:
    """When the person must check in between departure and arrival (arrival included)."""
    moments: set[datetime.datetime] = set()
    if every_hours:
        step = datetime.timedelta(hours=every_hours)
        moment = departure + step
        while moment < arrival and len(moments) <= MAX_WINDOWS:
            moments.add(moment)
            moment += step
    if times_of_day:
        zone = timezone.get_current_timezone()
        day = timezone.localtime(departure, zone).date()
        last_day = timezone.localtime(arrival, zone).date()
        while day <= last_day and len(moments) <= MAX_WINDOWS:
            for time_of_day in times_of_day:
                moment = datetime.datetime.combine(day, time_of_day, tzinfo=zone)
                if departure < moment < arrival:
                    moments.add(moment)
            day += datetime.timedelta(days=1)
    moments.add(arrival)
    return sorted(moments)


def check_handlers(case: Case, lead: User, backup: User) -> None:
    """Two people, each active, allowed to handle journeys and on the case's team."""
    if lead.pk == backup.pk:
        raise JourneyError(_("The lead handler and the backup handler must be two people."))
    for handler in (lead, backup):
        if not (handler.is_active and handler.has_perm("journeys.handle_journey")):
            raise JourneyError(_("A handler must be active staff who may handle journeys."))
        if not on_team(case, handler):
            raise JourneyError(_("Both handlers must be members of the case's team."))


@transaction.atomic
def journey_plan(
    *,
    case: Case,
    actor: User,
    lead_handler: User,
    backup_handler: User,
    departure: datetime.datetime,
    arrival: datetime.datetime,
    grace_minutes: int,
    every_hours: int | None = None,
    times_of_day: list[datetime.time] | None = None,
    primary_channel: str,
    fallback_channel: str,
    channel_details: str = "",
    travellers: str = "",
    all_clear_word: str,
    duress_word: str,
    legs: list[LegPlan],
    contingency: list[ContingencyPlan],
) -> Journey:
    require_permission(actor, "journeys.plan_journey")
    case = Case.objects.select_for_update(of=("self",)).select_related("data_key").get(pk=case.pk)
    if case.is_erased:
        raise JourneyError(_("This case's identity has been erased: it has no journey to plan."))
    if Journey.objects.filter(case=case, status=JourneyStatus.ACTIVE).exists():
        raise JourneyError(_("This case already has a journey in progress."))
    check_handlers(case, lead_handler, backup_handler)
    all_clear, duress = check_code_words(all_clear_word, duress_word)
    if grace_minutes is None or grace_minutes <= 0:
        raise JourneyError(_("The grace period must be at least one minute."))
    if grace_minutes > settings.HAVEN_JOURNEY_MAX_GRACE_MINUTES:
        raise JourneyError(_("The grace period is too long."))
    now = timezone.now()
    if departure < now - datetime.timedelta(minutes=5):
        raise JourneyError(_("The departure is in the past: check-in windows must be ahead."))
    if arrival <= departure:
        raise JourneyError(_("The arrival must come after the departure."))
    if departure > now + MAX_LEAD_TIME or arrival - departure > MAX_JOURNEY:
        raise JourneyError(_("Plan journeys at most a year ahead and at most 60 days long."))
    if not every_hours and not times_of_day:
        raise JourneyError(_("Give the check-in times, or a check-in every so many hours."))
    if every_hours is not None and every_hours <= 0:
        raise JourneyError(_("Check-ins must be at least one hour apart."))
    for channel in (primary_channel, fallback_channel):
        if channel not in Channel.values:
            raise JourneyError(_("Choose the primary and fallback channels."))
    if not legs:
        raise JourneyError(_("A journey has at least one leg."))
    for step in contingency:
        if step.kind not in ContingencyKind.values or not step.details.strip():
            raise JourneyError(_("Each contingency step needs a kind and what to do."))
    moments = window_times(
        departure=departure, arrival=arrival, every_hours=every_hours, times_of_day=times_of_day
    )
    if len(moments) > MAX_WINDOWS:
        raise JourneyError(_("Too many check-in windows: check in less often."))
    if moments[0] <= now:
        raise JourneyError(_("A check-in window is in the past."))
    journey = Journey(
        case=case,
        planned_by=actor,
        lead_handler=lead_handler,
        backup_handler=backup_handler,
        planned_departure=departure.isoformat(),
        planned_arrival=arrival.isoformat(),
        primary_channel=primary_channel,
        fallback_channel=fallback_channel,
        channel_details=channel_details.strip() or None,
        travellers=travellers.strip() or None,
        all_clear_hash=make_password(all_clear),
        duress_hash=make_password(duress),
        grace_minutes=grace_minutes,
        every_hours=every_hours,
    )
    grace = datetime.timedelta(minutes=grace_minutes)
    with audit_context(actor=actor, action="journey.plan"):
        try:
            with transaction.atomic():
                journey.save()
        except IntegrityError as error:
            raise JourneyError(_("This case already has a journey in progress.")) from error
        for position, leg in enumerate(legs, start=1):
            Leg.objects.create(
                journey=journey,
                position=position,
                from_place=leg.from_place.strip()[:100],
                to_place=leg.to_place.strip()[:100],
                details=leg.details.strip() or None,
            )
        for position, step in enumerate(contingency, start=1):
            ContingencyStep.objects.create(
                journey=journey,
                position=position,
                kind=step.kind,
                details=step.details.strip(),
                house_code=step.house_code.strip() or None,
            )
        CheckInWindow.objects.bulk_create(
            CheckInWindow(journey=journey, due_at=moment, grace_ends_at=moment + grace)
            for moment in moments
        )
    return journey


def _stop_clock(journey: Journey, *, reason: str, now: datetime.datetime) -> int:
    """Stop the windows still waiting and close the open escalations; returns how many closed."""
    CheckInWindow.objects.filter(
        journey=journey, checked_in_at__isnull=True, stopped_at__isnull=True
    ).update(stopped_at=now)
    return Escalation.objects.filter(journey=journey, closed_at__isnull=True).update(
        closed_at=now, closed_reason=reason
    )


def _end(journey: Journey, *, actor: User, status: str, reason: str) -> Journey:
    now = timezone.now()
    journey.status, journey.ended_at = status, now
    with audit_context(actor=actor, action=f"journey.{status}"):
        journey.save(update_fields=["status", "ended_at"])
        _stop_clock(journey, reason=reason, now=now)
    tell_the_journeys_people(
        journey, kind="journeys.ended", event_key=f"journeys.ended:{journey.pk}"
    )
    return journey


@transaction.atomic
def journey_mark_arrived(*, journey: Journey, actor: User) -> Journey:
    """The one arrival event of a journey: the clock stops and open escalations close."""
    journey = lock(journey)
    if not may_handle(actor, journey):
        require_permission(actor, "journeys.plan_journey")
    if not journey.is_active:
        raise JourneyError(_("This journey has already ended."))
    return _end(journey, actor=actor, status=JourneyStatus.ARRIVED, reason=ClosedReason.ARRIVED)


@transaction.atomic
def journey_cancel(*, journey: Journey, actor: User) -> Journey:
    require_permission(actor, "journeys.plan_journey")
    journey = lock(journey)
    if not journey.is_active:
        raise JourneyError(_("This journey has already ended."))
    return _end(journey, actor=actor, status=JourneyStatus.CANCELLED, reason=ClosedReason.CANCELLED)


def journey_arrive_with_case(*, case: Case, actor: User) -> Journey | None:
    """Cases recorded the stage "arrived at a safe location" (its service checked who may):
    the journey in progress, if any, arrives with it, in the same transaction."""
    journey = (
        Journey.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(case=case, status=JourneyStatus.ACTIVE)
        .first()
    )
    if journey is None:
        return None
    return _end(journey, actor=actor, status=JourneyStatus.ARRIVED, reason=ClosedReason.ARRIVED)


def journey_resume_with_case(
    *, case: Case, actor: User, arrived_at: datetime.datetime
) -> Journey | None:
    """Cases took back the arrival recorded at `arrived_at` (the bed that recorded it was
    undone; its service checked who may): the journey that arrived with it is in progress
    again, in the same transaction. The windows its arrival stopped wait again (those already
    overdue are escalated by the next sweep), the escalations it closed are open again, and
    its handlers and the coordinators are told. A journey that ended otherwise (marked arrived
    by hand, cancelled) is left, as is any when another journey of the case is in progress."""
    journey = (
        Journey.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(case=case, status=JourneyStatus.ARRIVED, ended_at__gte=arrived_at)
        .order_by("-ended_at")
        .first()
    )
    if journey is None or Journey.objects.filter(case=case, status=JourneyStatus.ACTIVE).exists():
        return None
    ended = journey.ended_at
    journey.status, journey.ended_at = JourneyStatus.ACTIVE, None
    with audit_context(actor=actor, action="journey.resumed"):
        journey.save(update_fields=["status", "ended_at"])
        # The arrival stopped these windows and closed these escalations at the very moment it
        # ended the journey (_end): those, and only those, start again.
        CheckInWindow.objects.filter(
            journey=journey, checked_in_at__isnull=True, stopped_at=ended
        ).update(stopped_at=None)
        Escalation.objects.filter(
            journey=journey, closed_at=ended, closed_reason=ClosedReason.ARRIVED
        ).update(closed_at=None, closed_reason="")
    tell_the_journeys_people(
        journey,
        kind="journeys.resumed",
        event_key=f"journeys.resumed:{journey.pk}:{ended.isoformat()}",
    )
    return journey


@transaction.atomic
def journeys_erase_with_case(*, case: Case) -> None:
    """Cases erased the identity; this runs in the transaction of the second approval and in
    its history context ("Identity erased", by the approver): an active journey of the case is
    cancelled and its clock stopped, so that nobody is watched through an erased case, and every
    journey's key is destroyed (their coarse places and the clock's times stay, as the case's
    region does)."""
    now = timezone.now()
    journeys = list(
        Journey.objects.select_for_update(of=("self",))
        .select_related("data_key")
        .filter(case=case)
        .order_by("pk")
    )
    for journey in journeys:
        if journey.status == JourneyStatus.ACTIVE:
            # An update, not save(): the journey's encrypted fields are left as they are.
            Journey.objects.filter(pk=journey.pk).update(
                status=JourneyStatus.CANCELLED, ended_at=now
            )
            _stop_clock(journey, reason=ClosedReason.CANCELLED, now=now)
        if journey.data_key.destroyed_at is None:
            destroy_data_key(journey.data_key)
