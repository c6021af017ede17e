"""A journey in a real browser, as a coordinator and a handler go through it: the coordinator
plans it, the lead handler records a check-in on a phone-sized screen (the code word first),
a check-in is missed and the sweep (beat's task, run here by the test) escalates it to an
incident, a step of the incident is acknowledged, and arrival stops the clock."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.roles import Role
from journeys import services
from journeys.models import Escalation, Journey
from tests.browser.conftest import log_out
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = {"width": 390, "height": 844}


def field(scope, label: str):
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\s*(\*\s*\(required\))?$"))


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_plan_check_in_missed_check_in_escalation_acknowledgement_arrival(
    page: Page, log_in, make_staff
):
    coordinator = make_staff(Role.JOURNEY_COORDINATOR)
    lead = make_staff(Role.CASE_MANAGER, username="lead-handler")
    backup = make_staff(Role.INTAKE_OFFICER, username="backup-handler")
    case = CaseFactory(intake_officer=backup, case_manager=lead)
    departure = timezone.now() + datetime.timedelta(minutes=10)

    log_in(coordinator)
    page.goto("/journeys/")
    page.get_by_label("Plan a journey for case (code)").fill(case.code)
    page.get_by_role("button", name="Plan", exact=True).click()
    expect(page.get_by_role("heading", name=f"Plan the journey of {case.code}")).to_be_visible()
    field(page, "Lead handler").select_option(label="lead-handler")
    field(page, "Backup handler").select_option(label="backup-handler")
    field(page, "Planned departure").fill(local(departure))
    field(page, "Planned arrival").fill(local(departure + datetime.timedelta(hours=12)))
    field(page, "Check in every … hours").fill("2")
    field(page, "Grace period (minutes)").fill("30")
    field(page, "Leg 1: from (coarse place)").fill("Hpa-an")
    field(page, "Leg 1: to (coarse place)").fill("Mae Sot")
    field(page, "Contingency step 1").select_option(label="Alert a partner")
    field(page, "Step 1: what to do (encrypted)").fill("Call the partner clinic")
    field(page, "All-clear word").fill("river mango")
    # Bad input first: the same word twice is refused and nothing is saved.
    field(page, "Duress word").fill("River Mango")
    page.get_by_role("button", name="Plan the journey").click()
    expect(page.get_by_role("alert").filter(has_text="must differ")).to_be_visible()
    assert not Journey.objects.exists()
    field(page, "All-clear word").fill("river mango")
    field(page, "Duress word").fill("blue sky")
    field(page, "Planned departure").fill(local(departure))
    field(page, "Planned arrival").fill(local(departure + datetime.timedelta(hours=12)))
    page.get_by_role("button", name="Plan the journey").click()
    expect(page.get_by_role("heading", name=re.compile(f"Journey of {case.code}"))).to_be_visible()
    journey = Journey.objects.get()
    log_out(page)

    # The lead handler, on a phone.
    page.set_viewport_size(PHONE)
    log_in(lead)
    page.goto(f"/journeys/{journey.pk}/")
    page.get_by_role("link", name="Record a check-in").click()
    word = page.get_by_label(re.compile("^Code word you heard"))
    expect(word).to_be_focused()
    word.fill("river mango")
    page.get_by_text("Signal", exact=True).click()
    field(page, "Coarse location (town or area)").fill("Hpa-an")
    page.get_by_role("button", name="Record the check-in").click()
    expect(page.get_by_text("All clear. The check-in is recorded.")).to_be_visible()

    # Nobody checks in for the first window: beat's sweep escalates it, step by step.
    first = journey.windows.order_by("due_at").first()
    services.escalation_sweep(now=first.grace_ends_at + datetime.timedelta(hours=2))
    incident = Escalation.objects.get(window=first, step=3)
    page.goto("/notifications/")
    expect(page.get_by_text(re.compile(f"Contingency: no check-in .* {case.code}"))).to_be_visible()
    page.goto(f"/journeys/{journey.pk}/incidents/{incident.pk}/")
    page.get_by_role("button", name="Done: acknowledge").click()
    expect(page.get_by_text(re.compile("Done — lead-handler"))).to_be_visible()

    # Arrival stops the clock and closes what is open.
    page.goto(f"/journeys/{journey.pk}/")
    page.get_by_role("button", name="Mark arrived").click()
    expect(page.get_by_text("Arrived: the check-in clock has stopped.")).to_be_visible()
    assert not Escalation.objects.filter(closed_at__isnull=True).exists()
    assert services.escalation_sweep(now=first.grace_ends_at + datetime.timedelta(days=2)) == []
