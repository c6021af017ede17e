"""Erasing a case erases its journeys: their own data keys are destroyed in the same transaction
as the case's, so the route, the check-in notes and the channels are gone with the identity."""

from __future__ import annotations

import pytest
from pghistory.models import Events

from accounts.roles import Role
from cases.services import erasure
from journeys.models import CheckIn, CheckInWindow, Journey, Leg
from protection.keys import Erased
from tests.journeys.conftest import CHANNEL_DETAILS

pytestmark = pytest.mark.django_db


def test_erasing_a_case_erases_its_journeys(journey, case, make_staff):
    asker, first, second = (make_staff(Role.CASE_MANAGER) for _ in range(3))
    pending = erasure.erasure_request(
        case=case, actor=asker, reason="person_request", confirmation=case.code
    )
    for approver in (first, second):
        pending = erasure.erasure_approve(erasure=pending, actor=approver, confirmation=case.code)
    journey = Journey.objects.get(pk=journey.pk)
    assert journey.data_key.destroyed_at is not None
    assert isinstance(journey.channel_details, Erased)
    for leg in Leg.objects.filter(journey=journey):
        assert isinstance(leg.details, Erased)
        assert leg.from_place  # the coarse places stay, as the case's region does
    assert not CheckIn.objects.filter(journey=journey).exclude(data_key=journey.data_key_id)
    assert CHANNEL_DETAILS not in str(journey.channel_details)
    # Nobody is watched through an erased case: the journey is over and its clock stopped.
    assert journey.status == "cancelled"
    assert not CheckInWindow.objects.filter(
        journey=journey, checked_in_at__isnull=True, stopped_at__isnull=True
    ).exists()


def test_the_journeys_cancellation_is_recorded_as_part_of_the_erasure(journey, case, make_staff):
    asker, first, second = (make_staff(Role.CASE_MANAGER) for _ in range(3))
    pending = erasure.erasure_request(
        case=case, actor=asker, reason="person_request", confirmation=case.code
    )
    for approver in (first, second):
        pending = erasure.erasure_approve(erasure=pending, actor=approver, confirmation=case.code)
    (cancelled,) = (
        Events.objects.tracks(Journey.objects.get(pk=journey.pk))
        .filter(pgh_diff__has_key="status")
        .order_by("-pgh_created_at")[:1]
    )
    assert cancelled.pgh_diff["status"] == ["active", "cancelled"]
    # In the erasure's history context: who carried it out, and why.
    assert cancelled.pgh_context["action"] == "case.erase"
    assert cancelled.pgh_context["user"] == second.pk
    assert cancelled.pgh_context["erasure_request"] == pending.pk
