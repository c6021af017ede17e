"""The alerts pages: unread count, list with urgent first, marking read, targets with a test
alert, bad URLs refused with a clear message, secrets never shown, and who may open what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from notifications import kinds
from notifications.models import AlertTarget, Delivery, Notification
from notifications.services import notify

pytestmark = pytest.mark.django_db

LATE = {"task": "accounts.backup_nightly", "minutes": 90}


def test_unread_count_in_the_navigation_and_urgent_alerts_first(login, make_staff):
    person = make_staff(Role.ADMINISTRATOR)
    notify(kind=kinds.TEST.code, recipients=[person], event_key="test")
    notify(kind=kinds.TASK_LATE.code, recipients=[person], event_key="late", parameters=LATE)
    client = login(person)
    page = client.get(reverse("notifications:list")).content.decode()
    assert '2<span class="visually-hidden"> unread' in page
    assert page.index("accounts.backup_nightly") < page.index("Test alert from Haven")
    dashboard = client.get("/").content.decode()
    assert "accounts.backup_nightly" in dashboard  # unread urgent alerts on the dashboard


def test_marking_read_opens_the_link_and_mark_all_read(login, make_staff):
    person, other = make_staff(Role.AUDITOR), make_staff(Role.AUDITOR)
    [mine] = notify(kind=kinds.TEST.code, recipients=[person], event_key="a", link="/cases/")
    [theirs] = notify(kind=kinds.TEST.code, recipients=[other], event_key="a")
    client = login(person)
    assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("notifications:read", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == "/cases/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    notify(kind=kinds.TEST.code, recipients=[person], event_key="b")
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(recipient=person, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_a_new_target_gets_a_test_alert_and_its_url_never_shows_again(login, make_staff, endpoint):
    person = make_staff(Role.HOUSING_COORDINATOR)
    client = login(person)
    url = endpoint.url("bot/very-secret-token-2468")
    response = client.post(
        reverse("notifications:targets"),
        {"label": "My phone", "url": url, "min_severity": "warning"},
        follow=True,
    )
    assert "The test alert was sent" in response.content.decode()
    [received] = endpoint.received
    assert "Test alert from Haven" in received["message"]
    target = AlertTarget.objects.get(owner=person)
    assert target.last_test_ok and target.scheme == "json"
    page = client.get(reverse("notifications:targets")).content.decode()
    assert "My phone" in page and "very-secret-token-2468" not in page
    # The test button sends again.
    client.post(reverse("notifications:target_test"), {"target": target.pk})
    assert len(endpoint.received) == 2


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not an Apprise URL"),
        ("slack://T000/B000/XXXX", "does not send alerts through slack://"),
        ("json://10.0.0.8:8080/alerts", "may not call the server 10.0.0.8"),
        ("signal://", "may not call the server"),
        ("json://localhost:notaport/x", "malformed"),
    ],
)
def test_a_bad_target_url_gets_a_clear_message_and_nothing_is_saved(
    login, make_staff, url, message
):
    client = login(make_staff(Role.AUDITOR))
    response = client.post(
        reverse("notifications:targets"), {"label": "x", "url": url, "min_severity": "urgent"}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert f'value="{url}"' not in response.content.decode()  # never echoed back
    assert not AlertTarget.objects.exists()


def test_a_target_whose_test_fails_is_saved_only_if_the_person_keeps_it(
    login, make_staff, endpoint
):
    person = make_staff(Role.AUDITOR)
    client = login(person)
    endpoint.status = 503
    form = {"label": "Phone", "url": endpoint.url(), "min_severity": "info"}
    response = client.post(reverse("notifications:targets"), form)
    assert "did not get through, so nothing was saved" in response.content.decode()
    assert not AlertTarget.objects.exists()
    response = client.post(
        reverse("notifications:targets"), {**form, "keep_if_test_fails": "on"}, follow=True
    )
    target = AlertTarget.objects.get(owner=person)
    assert target.last_test_ok is False and target.last_error
    assert "secret-token-4242" not in response.content.decode()


def test_nobody_tests_or_removes_someone_elses_target(login, make_staff, target_for):
    target = target_for(make_staff(Role.AUDITOR))
    client = login(make_staff(Role.ADMINISTRATOR))
    assert (
        client.post(reverse("notifications:target_test"), {"target": target.pk}).status_code == 404
    )
    assert (
        client.post(reverse("notifications:target_delete"), {"target": target.pk}).status_code
        == 404
    )
    assert client.post(reverse("notifications:target_delete"), {"target": "١٢"}).status_code == 404
    assert AlertTarget.objects.filter(pk=target.pk).exists()


def test_failing_deliveries_page_shows_no_secret(login, make_staff, target_for, settings):
    administrator = make_staff(Role.ADMINISTRATOR)
    target = target_for(make_staff(Role.AUDITOR), path="alerts/very-secret-token-1122")
    [notification] = notify(kind=kinds.TEST.code, recipients=[target.owner], event_key="f")
    Delivery.objects.filter(notification=notification).update(
        status=Delivery.Status.FAILED, attempts=6, last_error="HTTP 500"
    )
    client = login(administrator)
    page = client.get(reverse("notifications:failing")).content.decode()
    assert "HTTP 500" in page and target.owner.username in page
    assert "very-secret-token-1122" not in page
    admin_page = client.get("/admin/notifications/delivery/").content.decode()
    assert "very-secret-token-1122" not in admin_page


ROLES = [
    Role.INTAKE_OFFICER,
    Role.VERIFIER,
    Role.CASE_MANAGER,
    Role.HOUSING_COORDINATOR,
    Role.FINANCE_OFFICER,
    Role.FINANCE_APPROVER,
    Role.AUDITOR,
    Role.ADMINISTRATOR,
]
# URL name -> the roles that may open it (GET); everyone else gets 403.
ALLOWED = {
    "notifications:list": set(ROLES),
    "notifications:targets": set(ROLES),
    "notifications:failing": {Role.ADMINISTRATOR, Role.AUDITOR},
}


def test_every_notifications_url_is_in_the_matrix():
    from notifications.urls import urlpatterns

    names = {f"notifications:{pattern.name}" for pattern in urlpatterns}
    posts = {
        "notifications:read",
        "notifications:read_all",
        "notifications:target_test",
        "notifications:target_delete",
    }
    assert names == set(ALLOWED) | posts


@pytest.mark.parametrize("role", ROLES)
def test_role_by_page_matrix(login, make_staff, role):
    client = login(make_staff(role))
    for name, allowed in ALLOWED.items():
        status = client.get(reverse(name)).status_code
        assert status == (200 if role in allowed else 403), (name, role, status)
    for name in ("notifications:read_all", "notifications:target_test"):
        assert client.get(reverse(name)).status_code == 405


def test_a_signal_target_receives_the_test_alert_through_signal_clis_rest_api(
    login, make_staff, endpoint
):
    """signal-cli's REST API, played by the local endpoint: Apprise posts to /v2/send."""
    person = make_staff(Role.CASE_MANAGER)
    url = f"signal://127.0.0.1:{endpoint.port}/+15550001111/+15550002222"
    response = login(person).post(
        reverse("notifications:targets"),
        {"label": "Signal", "url": url, "min_severity": "urgent"},
        follow=True,
    )
    assert "The test alert was sent" in response.content.decode()
    [message] = endpoint.received
    assert endpoint.paths == ["/v2/send"]
    assert "Test alert from Haven" in message["message"]
    assert message["recipients"] == ["+15550002222"]
    target = AlertTarget.objects.get(owner=person)
    assert target.display == f"signal://127.0.0.1:{endpoint.port}/…"
    assert "+15550002222" not in response.content.decode()
