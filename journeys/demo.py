"""Fictional demo journeys: one in progress, one overdue (the lead handler alerted), one
escalated to a contingency incident with a step acknowledged, and one with check-ins on time.
Planned through the services, then moved back in time so that the clock has run."""

from __future__ import annotations

import datetime
from typing import TextIO

from django.utils import timezone

from accounts.demo import register_demo_loader
from accounts.models import User
from cases.choices import JourneyStage, Status
from cases.models import Case
from journeys import services
from journeys.models import CheckInWindow, Escalation, Journey, Step
from journeys.services import ContingencyPlan, LegPlan

ALL_CLEAR = "mango river"
DURESS = "rainy season"

ROUTES = [
    [("Hpa-an", "Myawaddy"), ("Myawaddy", "Mae Sot")],
    [("Monywa", "Kalay"), ("Kalay", "Tamu")],
    [("Bago", "Hpa-an"), ("Hpa-an", "Mae Sot")],
    [("Loikaw", "Demoso"), ("Demoso", "Mae Hong Son")],
]
CONTINGENCY = [
    ContingencyPlan(kind="warn_person", details="Call the sister in Mae Sot on the agreed number"),
    ContingencyPlan(kind="alert_partner", details="Alert the partner clinic at the border"),
    ContingencyPlan(kind="safe_house", details="The person knows this house", house_code="SH-03"),
]


def _shift_back(journey: Journey, delta: datetime.timedelta) -> None:
    """Move a fresh journey back in time, as if it had been planned `delta` ago."""
    Journey.objects.filter(pk=journey.pk).update(created_at=journey.created_at - delta)
    for window in CheckInWindow.objects.filter(journey=journey):
        window.due_at -= delta
        window.grace_ends_at -= delta
        window.save(update_fields=["due_at", "grace_ends_at"])
    journey.refresh_from_db()
    journey.planned_departure = (journey.departure_at - delta).isoformat()
    journey.planned_arrival = (journey.arrival_at - delta).isoformat()
    journey.save(update_fields=["planned_departure", "planned_arrival"])


def _plan(case: Case, route, coordinator: User, lead: User, backup: User) -> Journey:
    departure = timezone.now() + datetime.timedelta(minutes=30)
    return services.journey_plan(
        case=case,
        actor=coordinator,
        lead_handler=lead,
        backup_handler=backup,
        departure=departure,
        arrival=departure + datetime.timedelta(hours=36),
        grace_minutes=30,
        every_hours=6,
        primary_channel="signal",
        fallback_channel="partner",
        channel_details="Signal on the phone the partner gave; fallback through the clinic",
        all_clear_word=ALL_CLEAR,
        duress_word=DURESS,
        legs=[LegPlan(from_place=start, to_place=end, details="By night") for start, end in route],
        contingency=CONTINGENCY,
    )


def load_demo_journeys(stdout: TextIO) -> None:
    if Journey.objects.exists():
        stdout.write("  journeys already there\n")
        return
    coordinator = User.objects.get(username="journeys")
    lead = User.objects.get(username="casemanager")
    backup = User.objects.get(username="intake")
    cases = list(
        Case.objects.filter(
            status=Status.VERIFIED,
            case_manager=lead,
            intake_officer=backup,
            journey_stage__in=[JourneyStage.CONTACTED, JourneyStage.IN_TRANSIT],
            data_key__destroyed_at__isnull=True,
        ).order_by("-contact_month", "-code")[: len(ROUTES)]
    )
    if len(cases) < len(ROUTES):
        stdout.write("  not enough verified cases for the demo journeys\n")
        return
    in_progress, overdue, escalated, on_time = (
        _plan(case, route, coordinator, lead, backup)
        for case, route in zip(cases, ROUTES, strict=True)
    )
    # Overdue: the first check-in's grace ended ten minutes ago; the lead handler was alerted.
    first = overdue.windows.order_by("due_at").first()
    _shift_back(overdue, first.grace_ends_at - timezone.now() + datetime.timedelta(minutes=10))
    # Escalated: silent for three hours past the grace period; one contingency step done.
    first = escalated.windows.order_by("due_at").first()
    _shift_back(escalated, first.grace_ends_at - timezone.now() + datetime.timedelta(hours=3))
    # On time: planned a day ago, every check-in so far all clear.
    _shift_back(on_time, datetime.timedelta(hours=20))
    for window in on_time.windows.filter(due_at__lte=timezone.now()).order_by("due_at"):
        services.check_in_record(
            journey=on_time,
            actor=lead,
            word=ALL_CLEAR,
            channel="signal",
            at=window.due_at + datetime.timedelta(minutes=5),
            coarse_location="Myawaddy",
        )
    services.escalation_sweep()
    incident = Escalation.objects.get(journey=escalated, step=Step.CONTINGENCY)
    services.incident_acknowledge(
        escalation=incident, contingency_step=escalated.contingency.first(), actor=backup
    )
    stdout.write(
        f"  4 journeys: {in_progress.case.code} in progress, {overdue.case.code} overdue, "
        f"{escalated.case.code} escalated, {on_time.case.code} on time\n"
    )


register_demo_loader("journeys", load_demo_journeys, order=60)
