"""Fixtures for journey tests: a case whose team holds two handlers, a coordinator, and a
journey planned through the service (check-ins every 4 hours, 30 minutes' grace)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.roles import Role
from journeys import services
from journeys.services import ContingencyPlan, LegPlan
from tests.factories import CaseFactory, add_to_team

ALL_CLEAR = "river mango"
DURESS = "blue sky"
NOTE = "Crossed near the old bridge with cousin Ko Aung"
CHANNEL_DETAILS = "Signal +66 81 234 5678"


@pytest.fixture
def coordinator(make_staff):
    return make_staff(Role.JOURNEY_COORDINATOR)


@pytest.fixture
def lead(make_staff):
    return make_staff(Role.CASE_MANAGER)


@pytest.fixture
def backup(make_staff):
    return make_staff(Role.INTAKE_OFFICER)


@pytest.fixture
def case(lead, backup):
    case = CaseFactory(intake_officer=backup, case_manager=lead)
    return case


@pytest.fixture
def outsider(make_staff):
    return make_staff(Role.CASE_MANAGER)


def plan_arguments(case, coordinator, lead, backup, **overrides) -> dict:
    departure = timezone.now() + datetime.timedelta(hours=1)
    arguments = {
        "case": case,
        "actor": coordinator,
        "lead_handler": lead,
        "backup_handler": backup,
        "departure": departure,
        "arrival": departure + datetime.timedelta(hours=24),
        "grace_minutes": 30,
        "every_hours": 4,
        "primary_channel": "signal",
        "fallback_channel": "partner",
        "channel_details": CHANNEL_DETAILS,
        "all_clear_word": ALL_CLEAR,
        "duress_word": DURESS,
        "legs": [
            LegPlan(from_place="Monywa", to_place="Kalay", details="Bus at dawn, seat 14"),
            LegPlan(from_place="Kalay", to_place="Tamu", details="Motorbike with a guide"),
        ],
        "contingency": [
            ContingencyPlan(kind="warn_person", details="Call the brother in Mandalay"),
            ContingencyPlan(kind="safe_house", details="Go to the house", house_code="SH-07"),
        ],
    }
    arguments.update(overrides)
    return arguments


@pytest.fixture
def plan(case, coordinator, lead, backup):
    def make(**overrides):
        arguments = plan_arguments(case, coordinator, lead, backup)
        arguments.update(overrides)
        return services.journey_plan(**arguments)

    return make


@pytest.fixture
def journey(plan):
    return plan()


@pytest.fixture
def unused_team_member(case, make_staff):
    member = make_staff(Role.VERIFIER)
    add_to_team(case, member)
    return member


@pytest.fixture
def time_machine_now():
    """The clock, stopped at now and moved by hand (`.shift(seconds)`, `.move_to(moment)`)."""
    import time_machine

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller
