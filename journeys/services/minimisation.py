"""Minimisation: `HAVEN_JOURNEY_RETENTION_DAYS` after a journey ended (arrival or cancellation),
its own data key is destroyed, so the route, the channels, the contingency steps and the
check-in notes become unreadable everywhere at once (history included: the event tables hold
the same ciphertext), and its code-word hashes are blanked in the same transaction (they are not
under the key, and the history never held them). The clock's times, the coarse places, the
check-ins' results, the escalations and the debrief's categories stay for statistics; the
case's journey tab records when it happened."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_context
from cases.services import case_journey_plan_destroyed
from journeys.models import Journey, JourneyStatus
from protection.erasure import destroy_data_key

ENDED = (JourneyStatus.ARRIVED, JourneyStatus.CANCELLED)


def retention_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.HAVEN_JOURNEY_RETENTION_DAYS)


def minimisation_due(now: datetime.datetime | None = None):
    """Journeys ended before the retention period and not yet minimised."""
    return Journey.objects.filter(
        status__in=ENDED,
        ended_at__lt=retention_cutoff(now),
        minimised_at__isnull=True,
    )


@transaction.atomic
def journey_minimise(*, journey_id: int, now: datetime.datetime | None = None) -> bool:
    """Minimise one journey if it is due; False when it was not (already done, not ended, or
    ended too recently). The row lock makes two runs at once minimise it once."""
    now = now or timezone.now()
    journey = (
        minimisation_due(now)
        .select_for_update(of=("self",))
        .select_related("data_key")
        .filter(pk=journey_id)
        .first()
    )
    if journey is None:
        return False
    with audit_context(actor=None, action="journey.minimised"):
        if journey.data_key.destroyed_at is None:
            destroy_data_key(journey.data_key)
        Journey.objects.filter(pk=journey.pk).update(
            all_clear_hash="", duress_hash="", minimised_at=now
        )
        case_journey_plan_destroyed(case_id=journey.case_id)
    return True


def minimisation_sweep(now: datetime.datetime | None = None) -> list[int]:
    """The nightly task: each due journey in its own transaction, so one failure holds up
    none of the others and a second run finds nothing left to do."""
    now = now or timezone.now()
    due = list(minimisation_due(now).order_by("pk").values_list("pk", flat=True))
    return [pk for pk in due if journey_minimise(journey_id=pk, now=now)]
