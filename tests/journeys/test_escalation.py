"""The clock: every escalation step at its delay, each recorded once, a late check-in closing
the escalation, and arrival (marked, or through cases' stage) stopping it all."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from cases import services as case_services
from journeys import services, tasks
from journeys.models import CheckInWindow, Escalation, Step
from journeys.services import JourneyError
from notifications import kinds
from notifications.models import Notification
from tests.journeys.conftest import ALL_CLEAR, CHANNEL_DETAILS, DURESS, NOTE

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)


def first_window(journey):
    return journey.windows.order_by("due_at").first()


def steps(journey):
    return sorted(Escalation.objects.filter(journey=journey).values_list("step", flat=True))


def recipients(kind):
    return set(Notification.objects.filter(kind=kind).values_list("recipient", flat=True))


def test_nothing_happens_before_the_grace_period_ends(journey):
    window = first_window(journey)
    assert services.escalation_sweep(now=window.grace_ends_at - MINUTE) == []
    assert services.escalation_sweep(now=window.due_at) == []
    assert steps(journey) == []


def test_every_step_at_its_delay(journey, lead, backup, coordinator, settings):
    settings.HAVEN_JOURNEY_BACKUP_AFTER_MINUTES = 30
    settings.HAVEN_JOURNEY_CONTINGENCY_AFTER_MINUTES = 90
    end = first_window(journey).grace_ends_at

    services.escalation_sweep(now=end)
    assert steps(journey) == [Step.LEAD]
    assert recipients("journeys.missed_lead") == {lead.pk}

    services.escalation_sweep(now=end + 29 * MINUTE)
    assert steps(journey) == [Step.LEAD]
    services.escalation_sweep(now=end + 30 * MINUTE)
    assert steps(journey) == [Step.LEAD, Step.BACKUP]
    assert recipients("journeys.missed_backup") == {backup.pk, coordinator.pk}

    services.escalation_sweep(now=end + 89 * MINUTE)
    assert steps(journey) == [Step.LEAD, Step.BACKUP]
    services.escalation_sweep(now=end + 90 * MINUTE)
    assert steps(journey) == [Step.LEAD, Step.BACKUP, Step.CONTINGENCY]
    assert recipients("journeys.incident") == {lead.pk, backup.pk, coordinator.pk}
    incident = Notification.objects.filter(kind="journeys.incident").first()
    assert incident.severity == "urgent"
    assert incident.parameters == {"case": journey.case.code, "minutes": "90"}
    assert incident.link.startswith(f"/journeys/{journey.pk}/incidents/")


def test_each_step_is_recorded_and_alerted_once(journey, lead):
    end = first_window(journey).grace_ends_at
    for minute in range(0, 200, 7):
        services.escalation_sweep(now=end + minute * MINUTE)
    services.escalation_sweep(now=end + 200 * MINUTE)
    assert steps(journey) == [Step.LEAD, Step.BACKUP, Step.CONTINGENCY]
    assert Notification.objects.filter(kind="journeys.missed_lead").count() == 1


def test_a_sweep_long_overdue_records_every_step_at_once(journey):
    window = first_window(journey)
    services.escalation_sweep(now=window.grace_ends_at + datetime.timedelta(hours=3))
    assert sorted(window.escalations.values_list("step", flat=True)) == [
        Step.LEAD,
        Step.BACKUP,
        Step.CONTINGENCY,
    ]


def test_a_late_check_in_closes_the_escalation_and_says_so(
    journey, lead, backup, coordinator, time_machine_now
):
    window = first_window(journey)
    services.escalation_sweep(now=window.grace_ends_at + 45 * MINUTE)
    assert steps(journey) == [Step.LEAD, Step.BACKUP]
    time_machine_now.move_to(window.grace_ends_at + 50 * MINUTE)
    check_in = services.check_in_record(
        journey=journey, actor=lead, word=ALL_CLEAR, channel="partner"
    )
    assert check_in.late
    assert not Escalation.objects.filter(closed_at__isnull=True).exists()
    assert set(Escalation.objects.values_list("closed_reason", flat=True)) == {"late_check_in"}
    assert recipients("journeys.late_check_in") == {lead.pk, backup.pk, coordinator.pk}
    # No further step for that window, ever.
    services.escalation_sweep(now=window.grace_ends_at + datetime.timedelta(hours=3))
    assert steps(journey) == [Step.LEAD, Step.BACKUP]


def test_the_next_window_escalates_on_its_own(journey, lead, time_machine_now):
    first, second = journey.windows.order_by("due_at")[:2]
    time_machine_now.move_to(first.due_at)
    services.check_in_record(journey=journey, actor=lead, word=ALL_CLEAR, channel="signal")
    assert services.escalation_sweep(now=first.grace_ends_at + datetime.timedelta(hours=2)) == []
    created = services.escalation_sweep(now=second.grace_ends_at)
    assert Escalation.objects.get(pk=created[0]).window_id == second.pk


def test_marked_arrival_stops_the_clock(journey, lead):
    window = first_window(journey)
    services.escalation_sweep(now=window.grace_ends_at)
    services.journey_mark_arrived(journey=journey, actor=lead)
    journey.refresh_from_db()
    assert journey.status == "arrived"
    assert set(Escalation.objects.values_list("closed_reason", flat=True)) == {"arrived"}
    assert services.escalation_sweep(now=window.grace_ends_at + datetime.timedelta(days=3)) == []
    with pytest.raises(JourneyError):
        services.check_in_record(journey=journey, actor=lead, word=ALL_CLEAR, channel="phone")


def test_the_case_arriving_at_a_safe_location_stops_the_clock(journey, lead):
    """The way housing records arrival: through cases' service, which sends its signal."""
    window = first_window(journey)
    services.escalation_sweep(now=window.grace_ends_at)
    case_services.case_set_stage(case=journey.case, actor=lead, stage="arrived")
    journey.refresh_from_db()
    assert journey.status == "arrived"
    assert not Escalation.objects.filter(closed_at__isnull=True).exists()
    assert services.escalation_sweep(now=window.grace_ends_at + datetime.timedelta(days=3)) == []
    assert Notification.objects.filter(kind="journeys.ended").exists()


@pytest.fixture
def housing_coordinator(make_staff):
    return make_staff(Role.HOUSING_COORDINATOR)


def give_a_bed(case, coordinator):
    from housing.services import Occupant, allocation_create
    from tests.factories import BedFactory

    case.refresh_from_db()
    case.status, case.decided_by, case.decided_at = "verified", case.case_manager, timezone.now()
    case.decision_reason = "All checks passed"
    case.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    return allocation_create(
        actor=coordinator,
        occupant=Occupant(case),
        bed=BedFactory(),
        start=timezone.localdate(),
    )


def test_a_bed_given_by_mistake_and_undone_gives_the_journey_back_its_clock(
    journey, lead, backup, coordinator, housing_coordinator
):
    """The bed recorded the arrival and stopped the check-ins; undoing it within the window
    takes the arrival back: the case is in transit again and the check-ins are due again."""
    from housing.services import allocation_undo

    case_services.case_set_stage(case=journey.case, actor=lead, stage="in_transit")
    window = first_window(journey)
    services.escalation_sweep(now=window.grace_ends_at)  # the lead is already alerted
    allocation = give_a_bed(journey.case, housing_coordinator)
    journey.refresh_from_db()
    assert journey.status == "arrived"
    assert services.escalation_sweep(now=window.grace_ends_at + 40 * MINUTE) == []

    allocation_undo(allocation=allocation, actor=housing_coordinator, reason="Wrong person")
    journey.refresh_from_db()
    journey.case.refresh_from_db()
    assert journey.status == "active" and journey.ended_at is None
    assert journey.case.journey_stage == "in_transit"
    stages = list(journey.case.journey_events.filter(kind="stage").order_by("at", "pk"))
    assert [event.stage for event in stages] == ["in_transit", "arrived", "in_transit"]
    assert stages[-1].reason == "The bed that recorded the arrival was undone."
    # The escalation the arrival closed is open again, and the next steps follow it.
    assert not Escalation.objects.filter(journey=journey, closed_at__isnull=False).exists()
    assert services.escalation_sweep(now=window.grace_ends_at + 40 * MINUTE) != []
    assert steps(journey) == [Step.LEAD, Step.BACKUP]
    assert recipients("journeys.resumed") == {lead.pk, backup.pk, coordinator.pk}
    assert services.check_in_record(journey=journey, actor=lead, word=ALL_CLEAR, channel="phone")


def test_undoing_a_bed_leaves_an_arrival_it_did_not_record(
    journey, lead, coordinator, housing_coordinator
):
    """Arrived by hand before the bed: the bed changed no stage, and its undo changes none."""
    from housing.services import allocation_undo

    case_services.case_set_stage(case=journey.case, actor=lead, stage="arrived")
    allocation = give_a_bed(journey.case, housing_coordinator)
    allocation_undo(allocation=allocation, actor=housing_coordinator, reason="Wrong bed")
    journey.refresh_from_db()
    journey.case.refresh_from_db()
    assert journey.status == "arrived" and journey.case.journey_stage == "arrived"
    assert not Notification.objects.filter(kind="journeys.resumed").exists()


def test_another_stage_leaves_the_clock_running(journey, lead):
    case_services.case_set_stage(case=journey.case, actor=lead, stage="in_transit")
    journey.refresh_from_db()
    assert journey.status == "active"


def test_a_cancelled_journey_stops_the_clock(journey, coordinator):
    services.journey_cancel(journey=journey, actor=coordinator)
    window = first_window(journey)
    assert services.escalation_sweep(now=window.grace_ends_at + datetime.timedelta(days=1)) == []


def test_incident_steps_are_acknowledged_by_a_named_person_once(journey, backup):
    end = first_window(journey).grace_ends_at
    services.escalation_sweep(now=end + datetime.timedelta(hours=3))
    incident = Escalation.objects.get(step=Step.CONTINGENCY)
    step = journey.contingency.first()
    acknowledgement = services.incident_acknowledge(
        escalation=incident, contingency_step=step, actor=backup
    )
    assert acknowledgement.by == backup
    with pytest.raises(JourneyError, match="already"):
        services.incident_acknowledge(escalation=incident, contingency_step=step, actor=backup)
    lead_step = Escalation.objects.get(step=Step.LEAD)
    with pytest.raises(JourneyError, match="contingency"):
        services.incident_acknowledge(escalation=lead_step, contingency_step=step, actor=backup)


def test_the_sweep_is_one_query_whatever_the_number_of_journeys(plan, make_staff):
    from tests.factories import CaseFactory

    for _number in range(5):
        lead, backup = make_staff(Role.CASE_MANAGER), make_staff(Role.INTAKE_OFFICER)
        plan(
            case=CaseFactory(intake_officer=backup, case_manager=lead),
            lead_handler=lead,
            backup_handler=backup,
        )
    with CaptureQueriesContext(connection) as queries:
        services.escalation_sweep()
    assert len(queries) <= 3  # savepoint/transaction bookkeeping and one statement


def test_the_task_takes_no_arguments_and_sweeps(journey):
    assert tasks.escalate.run() == 0
    assert tasks.escalate.name == "journeys.escalate"


def test_no_protected_value_in_any_alert_or_log_line(
    journey, lead, backup, caplog, time_machine_now
):
    caplog.set_level(logging.DEBUG)
    window = first_window(journey)
    services.code_word_check(journey=journey, actor=lead, word="wrong guess")
    services.check_in_record(journey=journey, actor=lead, word=DURESS, channel="signal", note=NOTE)
    services.escalation_sweep(now=window.grace_ends_at + datetime.timedelta(hours=3))
    time_machine_now.move_to(window.grace_ends_at + datetime.timedelta(hours=3))
    services.check_in_record(
        journey=journey, actor=backup, word=ALL_CLEAR, channel="phone", note=NOTE
    )
    services.journey_mark_arrived(journey=journey, actor=lead)
    secrets = [
        ALL_CLEAR,
        DURESS,
        "wrong guess",
        NOTE,
        CHANNEL_DETAILS,
        "Bus at dawn",
        "brother in Mandalay",
        "SH-07",
        journey.case.real_name,
    ]
    texts = [caplog.text]
    for notification in Notification.objects.all():
        texts += [str(notification.parameters), notification.link, notification.event_key]
        texts.append(kinds.render(notification.kind, notification.parameters))
    from audit.models import AccessLog

    texts += [f"{entry.detail} {entry.target_label}" for entry in AccessLog.objects.all()]
    joined = "\n".join(texts)
    for secret in secrets:
        assert str(secret) not in joined
    assert Notification.objects.filter(kind="journeys.duress").exists()
    assert Notification.objects.filter(kind="journeys.incident").exists()


def test_a_bed_in_a_safe_house_is_the_arrival_and_stops_the_clock(journey, case, make_staff):
    """Arrival through housing: giving the person a bed records the stage "arrived" through
    cases' service, whose signal stops the journey's clock."""
    from django.utils import timezone

    from housing import services as housing_services
    from housing.services import Occupant
    from tests.factories import BedFactory

    case.status, case.journey_stage = "verified", "in_transit"
    case.decided_by, case.decided_at = make_staff(Role.CASE_MANAGER), timezone.now()
    case.decision_reason = "Checks passed"
    case.save()
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    housing_services.allocation_create(
        actor=coordinator, occupant=Occupant(case), bed=BedFactory(), start=timezone.localdate()
    )
    case.refresh_from_db()
    journey.refresh_from_db()
    assert case.journey_stage == "arrived"
    assert journey.status == "arrived"
    assert not CheckInWindow.objects.filter(journey=journey, stopped_at__isnull=True).exists()
