"""Recording a check-in: the code word first, then what it means for the clock. An all-clear
satisfies every window due by then (a late one closes its escalation, and says so); a duress
word raises the case's emergency flag and alerts the coordinators and administrators at once;
a word that matches nothing is recorded but satisfies nothing."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_context
from journeys.models import (
    Channel,
    CheckIn,
    CheckInWindow,
    ClosedReason,
    CodeWordResult,
    Escalation,
    Journey,
)
from journeys.services.code_words import check_locked, duress_heard
from journeys.services.common import (
    JourneyError,
    RateLimited,
    lock,
    require_handler,
    tell_the_journeys_people,
)


def _satisfy_windows(journey: Journey, at: datetime.datetime) -> bool:
    """Windows due by `at` (or opening within their grace before it) are satisfied; returns
    whether any of them was late, and closes their escalations."""
    waiting = CheckInWindow.objects.filter(
        journey=journey,
        checked_in_at__isnull=True,
        stopped_at__isnull=True,
        due_at__lte=at + (F("grace_ends_at") - F("due_at")),
    )
    late = waiting.filter(grace_ends_at__lt=at).exists()
    window_ids = list(waiting.values_list("pk", flat=True))
    if not window_ids:
        return False
    CheckInWindow.objects.filter(pk__in=window_ids).update(checked_in_at=at)
    closed = Escalation.objects.filter(window__in=window_ids, closed_at__isnull=True).update(
        closed_at=timezone.now(), closed_reason=ClosedReason.LATE_CHECK_IN
    )
    if closed:
        tell_the_journeys_people(
            journey,
            kind="journeys.late_check_in",
            event_key=f"journeys.late_check_in:{journey.pk}:{min(window_ids)}",
        )
    return late


def check_in_record(
    *,
    journey: Journey,
    actor: User,
    word: str,
    channel: str,
    at: datetime.datetime | None = None,
    coarse_location: str = "",
    note: str = "",
    request: HttpRequest | None = None,
) -> CheckIn:
    now = timezone.now()
    at = at or now
    if at > now + datetime.timedelta(minutes=5):
        raise JourneyError(_("A check-in cannot be in the future."))
    if channel not in Channel.values:
        raise JourneyError(_("Choose the channel the person used."))
    if not (word or "").strip():
        raise JourneyError(_("Type the code word you heard first."))
    with transaction.atomic():
        journey = lock(journey)
        require_handler(actor, journey)
        if not journey.is_active:
            raise JourneyError(_("This journey has ended: its clock has stopped."))
        if at < journey.created_at:
            raise JourneyError(_("A check-in cannot be before the journey was planned."))
        result = check_locked(journey, actor=actor, word=word, request=request)
        if result is not None:
            check_in = _record(
                journey,
                actor=actor,
                result=result,
                channel=channel,
                at=at,
                coarse_location=coarse_location,
                note=note,
            )
    if result is None:
        raise RateLimited(
            _(
                "Too many code words were checked for this journey in the last hour. Wait, or ask "
                "a coordinator."
            )
        )
    return check_in


def _record(
    journey: Journey,
    *,
    actor: User,
    result: str,
    channel: str,
    at: datetime.datetime,
    coarse_location: str,
    note: str,
) -> CheckIn:
    with audit_context(actor=actor, action="journey.check_in"):
        check_in = CheckIn(
            journey=journey,
            at=at,
            channel=channel,
            result=result,
            coarse_location=coarse_location.strip()[:100],
            note=note.strip() or None,
            recorded_by=actor,
        )
        if result == CodeWordResult.ALL_CLEAR:
            check_in.late = _satisfy_windows(journey, at)
        check_in.save()
    if result == CodeWordResult.DURESS:
        duress_heard(journey, actor, event_key=f"journeys.duress:{check_in.pk}")
    return check_in
