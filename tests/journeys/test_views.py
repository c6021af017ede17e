"""The journey pages: who may open them, planning in the browser's form, the phone-sized
check-in with the code word first, the code-word check and the incident's acknowledgements.
Bad input is answered with a clear message and saves nothing."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from journeys import services
from journeys.models import Acknowledgement, CheckIn, Escalation, Journey, Step
from tests.journeys.conftest import ALL_CLEAR, DURESS

pytestmark = pytest.mark.django_db

LIST_READERS = {
    Role.JOURNEY_COORDINATOR,
    Role.CASE_MANAGER,
    Role.INTAKE_OFFICER,
    Role.VERIFIER,
}


@pytest.mark.parametrize("role", Role.ALL)
def test_who_may_open_the_list(login, make_staff, role):
    client = login(make_staff(role, is_staff=role == Role.ADMINISTRATOR))
    response = client.get(reverse("journeys:list"))
    assert response.status_code == (200 if role in LIST_READERS else 403)


def moment(hours: float) -> str:
    return timezone.localtime(timezone.now() + datetime.timedelta(hours=hours)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def plan_post(lead, backup, **overrides) -> dict:
    data = {
        "lead_handler": lead.pk,
        "backup_handler": backup.pk,
        "departure": moment(1),
        "arrival": moment(30),
        "every_hours": "6",
        "times_of_day": "",
        "grace_minutes": "30",
        "primary_channel": "signal",
        "fallback_channel": "phone",
        "channel_details": "",
        "travellers": "",
        "all_clear_word": "river mango",
        "duress_word": "blue sky",
        "leg_1_from": "Hpa-an",
        "leg_1_to": "Mae Sot",
        "leg_1_details": "By boat",
        "step_1_kind": "alert_partner",
        "step_1_details": "Call the partner clinic",
        "step_1_house_code": "",
    }
    data.update(overrides)
    return data


def test_a_coordinator_plans_a_journey_in_the_form(login, coordinator, case, lead, backup):
    client = login(coordinator)
    response = client.post(reverse("journeys:list"), {"case": case.code})
    assert response["Location"] == reverse("journeys:plan", kwargs={"pk": case.pk})
    page = client.get(response["Location"])
    assert page.status_code == 200
    response = client.post(response["Location"], plan_post(lead, backup))
    journey = Journey.objects.get()
    assert response["Location"] == reverse("journeys:detail", kwargs={"pk": journey.pk})
    assert journey.windows.count() == 5
    assert b"river mango" not in client.get(response["Location"]).content


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"departure": moment(-3)}, "in the past"),
        ({"grace_minutes": "0"}, "grace period"),
        ({"all_clear_word": "abc"}, "at least 4"),
        ({"duress_word": "River Mango"}, "must differ"),
        ({"backup_handler": "same"}, "two people"),
        ({"backup_handler": "outsider"}, ""),
        ({"departure": "9999-12-31T23:59", "arrival": "9999-12-31T23:59"}, ""),
    ],
)
def test_bad_plans_get_a_message_and_save_nothing(
    login, coordinator, case, lead, backup, outsider, overrides, message
):
    if overrides.get("backup_handler") == "same":
        overrides["backup_handler"] = lead.pk
    if overrides.get("backup_handler") == "outsider":
        overrides["backup_handler"] = outsider.pk
    client = login(coordinator)
    response = client.post(
        reverse("journeys:plan", kwargs={"pk": case.pk}), plan_post(lead, backup, **overrides)
    )
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    if message:
        assert message in response.content.decode()
    assert not Journey.objects.exists()


def test_the_check_in_page_puts_the_code_word_first(login, journey, lead):
    client = login(lead)
    page = client.get(reverse("journeys:check_in", kwargs={"pk": journey.pk})).content.decode()
    assert page.index('name="word"') < page.index('name="channel"')
    assert "btn-lg" in page


def test_a_handler_records_a_check_in(login, journey, lead):
    client = login(lead)
    url = reverse("journeys:check_in", kwargs={"pk": journey.pk})
    response = client.post(
        url, {"word": ALL_CLEAR, "channel": "signal", "coarse_location": "Kalay"}
    )
    assert response.status_code == 302
    assert CheckIn.objects.get().result == "all_clear"


def test_duress_through_the_page(login, journey, lead):
    client = login(lead)
    url = reverse("journeys:check_in", kwargs={"pk": journey.pk})
    response = client.post(url, {"word": DURESS, "channel": "phone"}, follow=True)
    assert "DURESS" in response.content.decode()
    journey.case.refresh_from_db()
    assert journey.case.emergency


def test_a_check_in_without_a_word_saves_nothing(login, journey, lead):
    client = login(lead)
    url = reverse("journeys:check_in", kwargs={"pk": journey.pk})
    response = client.post(url, {"word": "", "channel": "phone"})
    assert response.status_code == 200
    assert not CheckIn.objects.exists()


def test_the_code_word_page_answers(login, journey, lead):
    client = login(lead)
    url = reverse("journeys:code_word", kwargs={"pk": journey.pk})
    assert "all clear" in client.post(url, {"word": ALL_CLEAR}).content.decode()
    assert "DURESS" in client.post(url, {"word": DURESS}).content.decode()
    assert "no match" in client.post(url, {"word": "nothing"}).content.decode()


def test_someone_else_on_no_journey_sees_nothing(login, journey, outsider):
    client = login(outsider)
    assert client.get(reverse("journeys:detail", kwargs={"pk": journey.pk})).status_code == 404
    assert client.get(reverse("journeys:check_in", kwargs={"pk": journey.pk})).status_code == 404


def test_a_team_member_who_is_not_a_handler_cannot_check_in(login, journey, unused_team_member):
    client = login(unused_team_member)
    url = reverse("journeys:check_in", kwargs={"pk": journey.pk})
    assert client.get(url).status_code == 404


def test_the_incident_page_acknowledges_steps(login, journey, backup):
    end = journey.windows.order_by("due_at").first().grace_ends_at
    services.escalation_sweep(now=end + datetime.timedelta(hours=3))
    incident = Escalation.objects.get(step=Step.CONTINGENCY)
    step = journey.contingency.first()
    client = login(backup)
    url = reverse("journeys:incident", kwargs={"pk": journey.pk, "escalation_pk": incident.pk})
    assert "Call the brother" in client.get(url).content.decode()
    response = client.post(url, {"step": step.pk})
    assert response.status_code == 302
    assert Acknowledgement.objects.get().by == backup
    assert client.post(url, {"step": "999999"}).status_code == 404


def test_marking_arrival_in_the_page(login, journey, lead):
    client = login(lead)
    client.post(reverse("journeys:arrive", kwargs={"pk": journey.pk}))
    journey.refresh_from_db()
    assert journey.status == "arrived"


def test_the_list_shows_an_overdue_journey_first(login, coordinator, journey):
    from journeys.models import CheckInWindow

    first = journey.windows.order_by("due_at").first()
    shift = first.grace_ends_at - timezone.now() + datetime.timedelta(minutes=5)
    CheckInWindow.objects.filter(pk=first.pk).update(
        due_at=first.due_at - shift, grace_ends_at=first.grace_ends_at - shift
    )
    page = login(coordinator).get(reverse("journeys:list")).content.decode()
    assert journey.case.code in page and "table-danger" in page


def test_times_of_day_in_the_form(login, coordinator, case, lead, backup):
    client = login(coordinator)
    url = reverse("journeys:plan", kwargs={"pk": case.pk})
    response = client.post(url, plan_post(lead, backup, every_hours="", times_of_day="25:00"))
    assert "HH:MM" in response.content.decode()
    client.post(url, plan_post(lead, backup, every_hours="", times_of_day="06:00, 18:00"))
    assert Journey.objects.get().windows.count() >= 2


def test_a_journey_page_is_a_reveal_within_the_day_s_budget(login, journey, coordinator, settings):
    """The plan's page shows it in clear: logged, and refused past the day's reveal budget."""
    from django.urls import reverse

    from audit.models import AccessLog

    settings.HAVEN_REVEAL_BUDGET_PER_DAY = 0
    client = login(coordinator)
    response = client.get(reverse("journeys:detail", args=[journey.pk]), follow=True)
    assert "your budget for the day" in response.content.decode()
    refused = AccessLog.objects.get(actor=coordinator, action=AccessLog.Action.DENIED)
    assert refused.detail == {"action": "reveal", "budget": 0}
    settings.HAVEN_REVEAL_BUDGET_PER_DAY = 1
    client.get(reverse("journeys:detail", args=[journey.pk]))
    shown = AccessLog.objects.get(actor=coordinator, action=AccessLog.Action.REVEAL)
    assert (shown.field, shown.target_label) == ("journey plan", str(journey))
