"""Raising alerts: once per event and person, roles resolved when raised, only safe texts, and
out-of-band delivery through Apprise to a real local endpoint, retried, then reported."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.utils import translation

from accounts.roles import Role
from config.celery import app as celery_app
from notifications import kinds
from notifications.kinds import AlertError
from notifications.models import Delivery, KindSetting, Notification, Severity
from notifications.services import delivery_attempt, notify
from notifications.tasks import deliver
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

SAMPLE = {"case": "HV-2026-00042", "task": "accounts.backup_nightly", "count": "6", "minutes": "75"}


def test_a_role_resolves_to_its_active_members_when_the_alert_is_raised(make_staff):
    first, second = make_staff(Role.ADMINISTRATOR), make_staff(Role.ADMINISTRATOR)
    make_staff(Role.ADMINISTRATOR, is_active=False)
    make_staff(Role.AUDITOR)
    written = notify(kind=kinds.TEST.code, recipients=[Role.ADMINISTRATOR, first], event_key="e1")
    assert {notification.recipient for notification in written} == {first, second}


def test_the_same_event_never_notifies_the_same_person_twice(make_staff):
    person = make_staff(Role.AUDITOR)
    assert len(notify(kind=kinds.TEST.code, recipients=[person], event_key="once")) == 1
    assert notify(kind=kinds.TEST.code, recipients=[person], event_key="once") == []
    assert Notification.objects.filter(recipient=person).count() == 1


@pytest.mark.parametrize(
    ("kind", "parameters", "link"),
    [
        ("no.such.kind", {}, ""),
        (kinds.TASK_RECOVERED.code, {"task": "Thura Aung"}, ""),  # a name is not a task
        (kinds.TASK_RECOVERED.code, {"task": "accounts.ping", "case": "HV-2026-00001"}, ""),
        (kinds.DELIVERY_FAILING.code, {"count": "MA-123456"}, ""),
        (kinds.TEST.code, {}, "https://evil.example/"),
        (kinds.TEST.code, {}, "/cases/?name=Thura"),
        (kinds.TEST.code, {}, "/no/such/page/"),
    ],
)
def test_an_alert_that_could_carry_identity_or_go_astray_is_refused(
    make_staff, kind, parameters, link
):
    person = make_staff(Role.AUDITOR)
    with pytest.raises(AlertError):
        notify(kind=kind, recipients=[person], event_key="x", parameters=parameters, link=link)
    assert not Notification.objects.exists()


@pytest.mark.parametrize("kind", kinds.all_kinds(), ids=lambda kind: kind.code)
@pytest.mark.parametrize("language", ["en", "my"])
def test_every_kind_of_alert_says_only_what_its_safe_parameters_say(kind, language):
    """Every registered kind, in every language: the message is its template filled with
    parameters of safe shapes; no shape admits a name, a place or a service number."""
    parameters = {name: SAMPLE[name] for name in kind.parameters}
    assert kinds.clean_parameters(kind, parameters) == parameters
    with translation.override(language):
        text = kind.render(parameters)
    assert text and "%(" not in text
    for value in parameters.values():
        assert value in text
    person = {"case": "Thura Aung", "task": "Mae Sot", "count": "MA-204871", "minutes": "Ko Min"}
    for name in kind.parameters:
        with pytest.raises(AlertError):
            kinds.clean_parameters(kind, {**parameters, name: person[name]})


def test_an_out_of_band_message_has_the_case_code_what_happened_and_a_link(
    make_staff, endpoint, target_for, django_capture_on_commit_callbacks, monkeypatch, settings
):
    """Kinds of later issues carry case codes; here the test kind is sent, and the body is
    checked against the identity of a real case in the database."""
    case = CaseFactory()
    monkeypatch.setitem(
        kinds._kinds,
        "tests.case_event",
        kinds.AlertKind(
            code="tests.case_event",
            label="Case event",
            severity=Severity.URGENT,
            message="Something happened on case %(case)s.",
            parameters=("case",),
        ),
    )
    person = make_staff(Role.CASE_MANAGER)
    target_for(person)
    celery_app.conf.task_always_eager = True  # the delivery task runs here, for real
    try:
        with django_capture_on_commit_callbacks(execute=True):
            notify(
                kind="tests.case_event",
                recipients=[person],
                event_key="case-event",
                parameters={"case": case.code},
                link=f"/cases/{case.pk}/",
            )
    finally:
        celery_app.conf.task_always_eager = False
    [message] = endpoint.received
    assert case.code in message["message"]
    assert f"{settings.HAVEN_BASE_URL}/cases/{case.pk}/" in message["message"]
    secrets = (case.real_name, case.service_number, case.alias, case.township)
    for secret in filter(None, secrets):
        assert secret not in message["message"] and secret not in message["title"]
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_severity_chosen_by_each_person_and_the_administrators_floor(
    make_staff, endpoint, target_for
):
    person = make_staff(Role.AUDITOR)
    target_for(person, min_severity=Severity.URGENT)
    notify(
        kind=kinds.DELIVERY_FAILING.code,
        recipients=[person],
        event_key="a",
        parameters={"count": 3},
    )
    assert not Delivery.objects.exists()  # a warning, and this person wants urgent ones only
    KindSetting.objects.create(kind=kinds.DELIVERY_FAILING.code, always_out_of_band=True)
    notify(
        kind=kinds.DELIVERY_FAILING.code,
        recipients=[person],
        event_key="b",
        parameters={"count": 3},
    )
    assert Delivery.objects.count() == 1
    # An urgent alert reaches even a target that wants urgent ones only, with no setting.
    other = make_staff(Role.AUDITOR)
    target_for(other, min_severity=Severity.URGENT)
    late = {"task": "accounts.ping", "minutes": 30}
    notify(kind=kinds.TASK_LATE.code, recipients=[other], event_key="c", parameters=late)
    assert Delivery.objects.filter(target__owner=other).count() == 1
    # A floor switched off is no floor.
    KindSetting.objects.filter(kind=kinds.DELIVERY_FAILING.code).update(always_out_of_band=False)
    notify(
        kind=kinds.DELIVERY_FAILING.code,
        recipients=[person],
        event_key="d",
        parameters={"count": 3},
    )
    assert Delivery.objects.filter(target__owner=person).count() == 1


def test_a_failing_endpoint_is_retried_then_reported_to_the_administrators(
    make_staff, endpoint, target_for, settings, caplog
):
    settings.HAVEN_ALERT_MAX_ATTEMPTS = 3
    administrator = make_staff(Role.ADMINISTRATOR)
    person = make_staff(Role.AUDITOR)
    target = target_for(person, path="alerts/very-secret-token-9876")
    endpoint.status = 500
    [notification] = notify(kind=kinds.TEST.code, recipients=[person], event_key="fail")
    delivery = Delivery.objects.get(notification=notification, target=target)

    with caplog.at_level(logging.DEBUG):
        result = deliver.apply(kwargs={"delivery_id": delivery.pk})  # retries run in place
    assert result.get() == "failed"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 3 and len(endpoint.paths) == 3
    assert delivery.last_error and "very-secret-token-9876" not in delivery.last_error
    assert "very-secret-token-9876" not in caplog.text
    # The administrators are told once, in Haven (they have no target here).
    told = Notification.objects.filter(kind=kinds.DELIVERY_FAILING.code)
    assert [entry.recipient for entry in told] == [administrator]
    assert delivery_attempt(delivery_id=delivery.pk) == ""  # a failed delivery is not retried
    assert told.count() == 1


def test_a_delivery_sent_twice_by_the_broker_is_sent_once(make_staff, endpoint, target_for):
    person = make_staff(Role.AUDITOR)
    target_for(person)
    [notification] = notify(kind=kinds.TEST.code, recipients=[person], event_key="twice")
    delivery = notification.deliveries.get()
    assert delivery_attempt(delivery_id=delivery.pk) == ""
    assert delivery_attempt(delivery_id=delivery.pk) == ""
    assert len(endpoint.received) == 1


def test_target_urls_are_stored_only_encrypted(make_staff, target_for):
    target = target_for(make_staff(Role.AUDITOR), path="alerts/very-secret-token-1357")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM notifications_alerttarget WHERE id = %s", [target.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "very-secret-token-1357" not in row
    assert target.url.endswith("very-secret-token-1357")
