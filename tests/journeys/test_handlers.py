"""A journey's handlers are members of the case's team: one taken off the team (suspected of
informing, say) sees and handles the journey no more, the coordinators are told at once, and a
coordinator names another handler from the team."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.roles import Role
from cases import services as case_services
from cases.models import CaseTeamMember
from journeys import selectors, services
from journeys.services import JourneyError
from notifications.models import Notification
from tests.factories import add_to_team
from tests.journeys.conftest import ALL_CLEAR, CHANNEL_DETAILS

pytestmark = pytest.mark.django_db


@pytest.fixture
def removable(case, make_staff):
    """A verifier added to the case's team, who can be taken off it."""
    handler = make_staff(Role.VERIFIER)
    add_to_team(case, handler)
    return handler


def take_off_team(case, actor, user) -> None:
    member = CaseTeamMember.objects.get(case=case, user=user)
    case_services.case_team_remove(case=case, actor=actor, member=member)


def test_a_handler_taken_off_the_team_sees_and_handles_the_journey_no_more(
    plan, case, lead, removable, coordinator, login
):
    journey = plan(backup_handler=removable)
    client = login(removable)
    assert (
        CHANNEL_DETAILS
        in client.get(reverse("journeys:detail", args=[journey.pk])).content.decode()
    )

    take_off_team(case, lead, removable)

    response = client.get(reverse("journeys:detail", args=[journey.pk]))
    assert response.status_code == 404
    listed = client.get(reverse("journeys:list")).content.decode()
    assert case.code not in listed
    assert not services.may_handle(removable, journey)
    with pytest.raises(PermissionDenied):
        services.check_in_record(journey=journey, actor=removable, channel="signal", word=ALL_CLEAR)
    # The coordinators are told at once, by the case's code and a link, nothing more.
    (alert,) = Notification.objects.filter(kind="journeys.handler_left", recipient=coordinator)
    assert case.code in alert.text and CHANNEL_DETAILS not in alert.text
    # The page says who no longer handles it, and offers the change.
    page = login(coordinator).get(reverse("journeys:detail", args=[journey.pk])).content.decode()
    assert 'id="handlers-off-team"' in page and removable.get_username() in page
    assert reverse("journeys:handlers", args=[journey.pk]) in page


def test_a_verifier_replaced_on_the_case_stops_handling_its_journey(
    plan, case, lead, make_staff, coordinator
):
    first, second = make_staff(Role.VERIFIER), make_staff(Role.VERIFIER)
    case.status = "intake"
    case.save(update_fields=["status"])
    case_services.case_assign_verifier(
        case=case, actor=make_staff(Role.CASE_MANAGER), verifier=first
    )
    journey = plan(backup_handler=first)
    case_services.case_assign_verifier(
        case=case, actor=make_staff(Role.CASE_MANAGER), verifier=second
    )
    assert not selectors.visible_journeys(first).filter(pk=journey.pk).exists()
    assert Notification.objects.filter(kind="journeys.handler_left", recipient=coordinator).exists()


def test_a_coordinator_names_another_handler_from_the_team(
    plan, case, lead, backup, removable, unused_team_member, coordinator, login
):
    journey = plan(backup_handler=removable)
    take_off_team(case, lead, removable)
    response = login(coordinator).post(
        reverse("journeys:handlers", args=[journey.pk]),
        {"lead_handler": lead.pk, "backup_handler": backup.pk},
        follow=True,
    )
    assert "The journey&#x27;s handlers are changed" in response.content.decode()
    journey.refresh_from_db()
    assert (journey.lead_handler, journey.backup_handler) == (lead, backup)
    assert Notification.objects.filter(kind="journeys.handler_named", recipient=backup).exists()
    assert not Notification.objects.filter(kind="journeys.handler_named", recipient=lead).exists()
    assert services.handlers_out_of_charge(journey) == []


def test_handlers_are_named_again_only_from_the_team_and_only_by_a_coordinator(
    journey, case, lead, backup, removable, outsider, login
):
    # Someone off the team is not offered, and a forged post changes nothing.
    response = login(journey.planned_by).post(
        reverse("journeys:handlers", args=[journey.pk]),
        {"lead_handler": outsider.pk, "backup_handler": backup.pk},
        follow=True,
    )
    assert "Choose the two handlers from the case" in response.content.decode()
    with pytest.raises(JourneyError, match="members of the case's team"):
        services.journey_handlers_change(
            journey=journey, actor=journey.planned_by, lead_handler=outsider, backup_handler=backup
        )
    with pytest.raises(PermissionDenied):
        services.journey_handlers_change(
            journey=journey, actor=lead, lead_handler=removable, backup_handler=backup
        )
    assert (
        login(lead)
        .post(
            reverse("journeys:handlers", args=[journey.pk]),
            {"lead_handler": removable.pk, "backup_handler": backup.pk},
        )
        .status_code
        == 403
    )
    journey.refresh_from_db()
    assert (journey.lead_handler, journey.backup_handler) == (lead, backup)


def test_a_handler_off_the_team_hears_nothing_more_and_the_coordinators_take_the_first_step(
    plan, case, lead, backup, removable, coordinator
):
    journey = plan(lead_handler=removable, backup_handler=backup)
    take_off_team(case, lead, removable)
    end = journey.windows.order_by("due_at").first().grace_ends_at
    services.escalation_sweep(now=end)
    told = set(
        Notification.objects.filter(kind="journeys.missed_lead").values_list("recipient", flat=True)
    )
    assert told == {coordinator.pk}
    services.journey_cancel(journey=journey, actor=coordinator)
    ended = Notification.objects.filter(kind="journeys.ended")
    assert backup.pk in set(ended.values_list("recipient", flat=True))
    assert (
        not Notification.objects.filter(recipient=removable)
        .exclude(kind__startswith="cases.")
        .exists()
    )


def test_each_departure_and_each_naming_is_told(
    plan, case, lead, backup, removable, unused_team_member, coordinator
):
    journey = plan(backup_handler=removable)
    take_off_team(case, lead, removable)
    add_to_team(case, removable)
    take_off_team(case, lead, removable)
    left = Notification.objects.filter(kind="journeys.handler_left", recipient=coordinator)
    assert left.count() == 2
    add_to_team(case, removable)
    for handler in (unused_team_member, removable, unused_team_member):
        services.journey_handlers_change(
            journey=journey, actor=coordinator, lead_handler=lead, backup_handler=handler
        )
    named = Notification.objects.filter(kind="journeys.handler_named", recipient=unused_team_member)
    assert named.count() == 2


def test_a_reopened_case_tells_the_coordinators_its_verifier_handled_a_journey(
    plan, case, lead, make_staff, coordinator
):
    verifier = make_staff(Role.VERIFIER)
    case.status = "intake"
    case.save(update_fields=["status"])
    case_services.case_assign_verifier(
        case=case, actor=make_staff(Role.CASE_MANAGER), verifier=verifier
    )
    plan(backup_handler=verifier)
    case_services.case_withdraw(case=case, actor=lead, reason="Went home")
    case_services.case_reopen(case=case, actor=lead, reason="Came back")
    assert Notification.objects.filter(kind="journeys.handler_left", recipient=coordinator).exists()
