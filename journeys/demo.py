"""Fictional demo journeys: one in progress, one overdue (the lead handler alerted), one
escalated to a contingency incident with a step acknowledged, one with check-ins on time, one
arrived with its debrief, one cancelled and one minimised.
Planned through the services, then moved back in time so that the clock has run."""

from __future__ import annotations

import datetime
from decimal import Decimal
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
    _load_ended_journeys(stdout, coordinator, lead, backup, exclude=[case.pk for case in cases])


ENDED_ROUTES = [
    [("Hpa-an", "Kawkareik"), ("Kawkareik", "Mae Sot")],
    [("Taunggyi", "Loikaw"), ("Loikaw", "Mae Hong Son")],
    [("Magway", "Pakokku"), ("Pakokku", "Kalay")],
]


def _load_ended_journeys(stdout: TextIO, coordinator, lead, backup, *, exclude) -> None:
    """Three journeys that ended: one arrived last week with its debrief, one cancelled, and
    one that arrived long ago and was minimised (its route destroyed, its figures kept)."""
    cases = list(
        Case.objects.filter(
            status=Status.VERIFIED,
            case_manager=lead,
            intake_officer=backup,
            data_key__destroyed_at__isnull=True,
        )
        .exclude(pk__in=exclude)
        .order_by("-contact_month", "-pk")[: len(ENDED_ROUTES)]
    )
    if len(cases) < len(ENDED_ROUTES):
        stdout.write("  not enough verified cases for the ended demo journeys\n")
        return
    arrived, cancelled, minimised = (
        _plan(case, route, coordinator, lead, backup)
        for case, route in zip(cases, ENDED_ROUTES, strict=True)
    )
    for journey, days_ago in ((arrived, 7), (minimised, 75)):
        _shift_back(journey, datetime.timedelta(days=days_ago))
        for window in journey.windows.filter(due_at__lte=timezone.now()).order_by("due_at")[:3]:
            services.check_in_record(
                journey=journey,
                actor=lead,
                word=ALL_CLEAR,
                channel="signal",
                at=window.due_at + datetime.timedelta(minutes=10),
                coarse_location=journey.legs.first().to_place,
            )
        services.journey_mark_arrived(journey=journey, actor=lead)
        Journey.objects.filter(pk=journey.pk).update(
            ended_at=timezone.now() - datetime.timedelta(days=days_ago - 1)
        )
        services.debrief_record(
            journey=journey,
            actor=lead,
            answers=services.DebriefAnswers(
                problems=["checkpoint"] if journey == arrived else ["phone", "transport"],
                contingency_used=[] if journey == arrived else ["alert_partner"],
                channels_worked=["signal"],
                channels_failed=[] if journey == arrived else ["sms"],
                leg_hours={1: Decimal("9.5"), 2: Decimal("14")},
                notes="A soldier at the second checkpoint looked at the phone; keep it empty.",
            ),
        )
    services.journey_cancel(journey=cancelled, actor=coordinator)
    services.journey_minimise(journey_id=minimised.pk)
    stdout.write(
        f"  3 ended journeys: {arrived.case.code} arrived with a debrief, "
        f"{cancelled.case.code} cancelled, {minimised.case.code} minimised\n"
    )


register_demo_loader("journeys", load_demo_journeys, order=60)
