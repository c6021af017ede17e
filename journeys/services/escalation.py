"""The escalation of missed check-ins. One set-based statement finds every window whose grace
has ended without a check-in, whatever the number of journeys, and inserts the steps now due:
lead handler at the end of the grace, backup handler and coordinators after
HAVEN_JOURNEY_BACKUP_AFTER_MINUTES, the contingency incident after
HAVEN_JOURNEY_CONTINGENCY_AFTER_MINUTES. The unique constraint on (journey, window, step) with
ON CONFLICT DO NOTHING records each step exactly once, whether two sweeps race or a worker dies
mid-sweep (its transaction rolls back and the next sweep does the work); the alerts are written
in the same transaction, and the Alerts service delivers them at least once."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from audit.services import audit_context
from journeys.models import Acknowledgement, ContingencyStep, Escalation, Step
from journeys.services.common import (
    JourneyError,
    handlers_in_charge,
    incident_link,
    journey_link,
    lock,
    require_handler,
)
from notifications.kinds import AlertError
from notifications.services import notify

logger = logging.getLogger(__name__)

SWEEP = """
INSERT INTO journeys_escalation (journey_id, window_id, step, at, closed_reason)
SELECT w.journey_id, w.id, s.step, %(now)s, ''
FROM journeys_checkinwindow w
CROSS JOIN (VALUES (1, 0), (2, %(backup)s), (3, %(contingency)s)) AS s(step, delay)
WHERE w.checked_in_at IS NULL
  AND w.stopped_at IS NULL
  AND w.grace_ends_at <= %(now)s
  AND w.grace_ends_at + make_interval(mins => s.delay) <= %(now)s
ON CONFLICT (journey_id, window_id, step) DO NOTHING
RETURNING id
"""

ALERT_KINDS = {
    Step.LEAD: "journeys.missed_lead",
    Step.BACKUP: "journeys.missed_backup",
    Step.CONTINGENCY: "journeys.incident",
}


def step_delays() -> dict[int, datetime.timedelta]:
    """How long after the end of the grace period each step comes."""
    return {
        Step.LEAD: datetime.timedelta(),
        Step.BACKUP: datetime.timedelta(minutes=settings.HAVEN_JOURNEY_BACKUP_AFTER_MINUTES),
        Step.CONTINGENCY: datetime.timedelta(
            minutes=settings.HAVEN_JOURNEY_CONTINGENCY_AFTER_MINUTES
        ),
    }


def _recipients(escalation: Escalation) -> list:
    """Who hears of each step, of the handlers only those still in charge: a lead handler taken
    off the case's team is replaced by the coordinators at the first step."""
    journey = escalation.journey
    in_charge = handlers_in_charge(journey)
    if escalation.step == Step.LEAD:
        lead = journey.lead_handler
        return [lead] if lead in in_charge else [Role.JOURNEY_COORDINATOR]
    if escalation.step == Step.BACKUP:
        backup = journey.backup_handler
        return [*([backup] if backup in in_charge else []), Role.JOURNEY_COORDINATOR]
    return [*in_charge, Role.JOURNEY_COORDINATOR]


def _alert(escalation: Escalation, now: datetime.datetime) -> None:
    journey = escalation.journey
    minutes = max(int((now - escalation.window.grace_ends_at).total_seconds() // 60), 0)
    link = (
        incident_link(journey.pk, escalation.pk)
        if escalation.step == Step.CONTINGENCY
        else journey_link(journey.pk)
    )
    notify(
        kind=ALERT_KINDS[escalation.step],
        recipients=_recipients(escalation),
        event_key=f"journeys.escalation:{escalation.pk}",
        parameters={"case": journey.case.code, "minutes": minutes},
        link=link,
    )


@transaction.atomic
def escalation_sweep(*, now: datetime.datetime | None = None) -> list[int]:
    """Record the steps now due, exactly once each, and alert; returns the new steps' ids."""
    now = now or timezone.now()
    delays = step_delays()
    with connection.cursor() as cursor:
        cursor.execute(
            SWEEP,
            {
                "now": now,
                "backup": int(delays[Step.BACKUP].total_seconds() // 60),
                "contingency": int(delays[Step.CONTINGENCY].total_seconds() // 60),
            },
        )
        created = [row[0] for row in cursor.fetchall()]
    if not created:
        return []
    escalations = Escalation.objects.filter(pk__in=created).select_related(
        "journey__case", "journey__lead_handler", "journey__backup_handler", "window"
    )
    for escalation in escalations.order_by("step", "pk"):
        try:
            with transaction.atomic():
                _alert(escalation, now)
        except AlertError:
            # One journey's alert refused by the rules of alerts must not stop the sweep of
            # every other journey: the step stays recorded (and shown on the journey's page).
            logger.exception("Escalation %s: its alert was refused.", escalation.pk)
    return sorted(created)


@transaction.atomic
def incident_acknowledge(
    *, escalation: Escalation, contingency_step: ContingencyStep, actor: User
) -> Acknowledgement:
    """A named person says a contingency step of an incident is done."""
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("journey")
        .get(pk=escalation.pk)
    )
    journey = lock(escalation.journey)
    require_handler(actor, journey)
    if escalation.step != Step.CONTINGENCY:
        raise JourneyError(_("Only a contingency incident has steps to acknowledge."))
    if contingency_step.journey_id != journey.pk:
        raise JourneyError(_("That step is not part of this journey's contingency plan."))
    try:
        with transaction.atomic(), audit_context(actor=actor, action="journey.acknowledge"):
            return Acknowledgement.objects.create(
                escalation=escalation, contingency_step=contingency_step, by=actor
            )
    except IntegrityError as error:
        raise JourneyError(_("This step has already been acknowledged.")) from error
