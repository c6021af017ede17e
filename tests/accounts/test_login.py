"""Login with password and second factor, lockout, idle expiry and logout."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import Role
from audit.models import AccessLog
from notifications.models import Notification
from tests.conftest import current_totp
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory

pytestmark = pytest.mark.django_db


def test_login_page_is_public_and_demands_the_second_factor(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"authenticator app" in response.content
    assert b"switched off" not in response.content


def test_login_page_says_when_second_factor_is_off(client, settings):
    settings.HAVEN_REQUIRE_2FA = False
    response = client.get("/accounts/login/")
    assert b"Two-factor authentication is switched off" in response.content


def test_password_alone_does_not_open_any_page(client, make_staff):
    user = make_staff(Role.CASE_MANAGER)
    TOTPDeviceFactory(user=user)
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert response["Location"] == "/"
    response = client.get("/accounts/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/verify/")


def test_correct_code_completes_login_and_is_logged(client, make_staff):
    user = make_staff(Role.AUDITOR)
    device = TOTPDeviceFactory(user=user)
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    response = client.post("/accounts/2fa/verify/", {"token": current_totp(device)})
    assert response.status_code == 302
    assert client.get("/accounts/audit/access/").status_code == 200
    actions = set(AccessLog.objects.filter(username=user.username).values_list("action", flat=True))
    assert {AccessLog.Action.LOGIN, AccessLog.Action.SECOND_FACTOR_VERIFIED} <= actions


def test_wrong_code_is_refused_with_a_message(client, make_staff):
    user = make_staff(Role.AUDITOR)
    TOTPDeviceFactory(user=user)
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    response = client.post("/accounts/2fa/verify/", {"token": "000000"})
    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    assert client.get("/").status_code == 302
    assert AccessLog.objects.filter(
        username=user.username, action=AccessLog.Action.SECOND_FACTOR_FAILED
    ).exists()


def test_malformed_code_gets_a_field_message(client, make_staff):
    user = make_staff(Role.AUDITOR)
    TOTPDeviceFactory(user=user)
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    response = client.post("/accounts/2fa/verify/", {"token": "<script>"})
    assert response.status_code == 200
    assert b"Enter the 6-digit code" in response.content
    assert b"<script>" not in response.content


def test_new_user_enrols_with_qr_code_then_reaches_pages(client, make_staff):
    administrator = make_staff(Role.ADMINISTRATOR)
    user = make_staff(Role.AUDITOR)
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    assert client.get("/")["Location"].startswith("/accounts/2fa/enrol/")
    page = client.get("/accounts/2fa/enrol/")
    assert page.status_code == 200
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/accounts/2fa/enrol/", {"token": current_totp(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    assert AccessLog.objects.filter(
        username=user.username, action=AccessLog.Action.SECOND_FACTOR_ENROLLED
    ).exists()
    # Whoever stood at the enrolment now holds the account: the administrators hear of it.
    assert Notification.objects.filter(
        kind="accounts.second_factor_enrolled", recipient=administrator
    ).exists()


def test_enrolled_user_cannot_replace_device_through_enrolment(client, make_staff):
    user = make_staff(Role.AUDITOR)
    TOTPDeviceFactory(user=user)
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    response = client.get("/accounts/2fa/enrol/")
    assert response["Location"].startswith("/accounts/2fa/verify/")
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_repeated_wrong_passwords_lock_the_account_and_are_logged(client, make_staff, settings):
    user = make_staff(Role.CASE_MANAGER)
    TOTPDeviceFactory(user=user)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": "wrong guess"}
        )
    assert response.status_code == 429 or b"Account locked" in response.content
    # Even the right password is now refused.
    response = Client().post(
        "/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert b"Account locked" in response.content
    assert "_auth_user_id" not in Client().session
    failed = AccessLog.objects.filter(username=user.username, action=AccessLog.Action.LOGIN_FAILED)
    assert failed.count() >= settings.AXES_FAILURE_LIMIT
    assert AccessLog.objects.filter(
        username=user.username, action=AccessLog.Action.LOCKED_OUT
    ).exists()
    assert AccessAttempt.objects.filter(username=user.username).exists()


def test_repeated_wrong_codes_lock_the_account_and_end_the_session(client, make_staff, settings):
    user = make_staff(Role.CASE_MANAGER)
    TOTPDeviceFactory(user=user)
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        # Each guess after django-otp's pause (a guess during it counts for nothing).
        TOTPDevice.objects.filter(user=user).update(throttling_failure_timestamp=None)
        response = client.post("/accounts/2fa/verify/", {"token": "000000"})
    assert b"Account locked" in response.content
    assert client.get("/")["Location"].startswith("/accounts/login/")
    assert AccessLog.objects.filter(
        username=user.username, action=AccessLog.Action.LOCKED_OUT
    ).exists()


def test_logout_ends_the_session_on_the_server(login, make_staff):
    user = make_staff(Role.AUDITOR)
    client = login(user)
    session_key = client.session.session_key
    assert Session.objects.filter(session_key=session_key).exists()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=session_key).exists()
    # A stolen copy of the old cookie opens nothing.
    thief = Client()
    thief.cookies["sessionid"] = session_key
    assert thief.get("/")["Location"].startswith("/accounts/login/")
    assert AccessLog.objects.filter(username=user.username, action=AccessLog.Action.LOGOUT).exists()


def test_logout_by_get_is_refused(login, make_staff):
    client = login(make_staff(Role.AUDITOR))
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200


def test_idle_session_expires(settings, login, make_staff):
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.HAVEN_SESSION_TOUCH_SECONDS <= 60
    client = login(make_staff(Role.AUDITOR))
    session = Session.objects.get(session_key=client.session.session_key)
    from django.utils import timezone

    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() - timezone.timedelta(seconds=1)
    )
    assert client.get("/")["Location"].startswith("/accounts/login/")


def _age_session(client: Client, *, last_write_seconds_ago: int) -> Session:
    """The session as if its expiry had last been pushed back that long ago."""
    import time

    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.middleware import SESSION_ACTIVITY_KEY

    store = SessionStore(client.session.session_key)
    store[SESSION_ACTIVITY_KEY] = int(time.time()) - last_write_seconds_ago
    store.save()
    remaining = store.get_expiry_age() - last_write_seconds_ago
    Session.objects.filter(pk=store.session_key).update(
        expire_date=timezone.now() + timezone.timedelta(seconds=remaining)
    )
    return Session.objects.get(pk=store.session_key)


def test_a_session_in_use_is_kept_alive_past_the_idle_timeout(settings, login, make_staff):
    client = login(make_staff(Role.AUDITOR))
    # Last written 29 minutes ago: one more minute of silence would end it.
    before = _age_session(client, last_write_seconds_ago=settings.SESSION_COOKIE_AGE - 60)
    assert client.get("/").status_code == 200
    after = Session.objects.get(pk=before.pk)
    from django.utils import timezone

    assert after.expire_date > timezone.now() + timezone.timedelta(
        seconds=settings.SESSION_COOKIE_AGE - 10
    )


def test_requests_close_together_write_the_session_once(settings, login, make_staff):
    client = login(make_staff(Role.AUDITOR))
    before = _age_session(client, last_write_seconds_ago=5)
    for _request in range(3):
        assert client.get("/").status_code == 200
    # Within HAVEN_SESSION_TOUCH_SECONDS: the end of the session did not move.
    assert Session.objects.get(pk=before.pk).expire_date == before.expire_date


def test_an_idle_session_ends_even_if_its_last_write_was_recent(settings, login, make_staff):
    """The time between writes never extends a session past its end in the database."""
    client = login(make_staff(Role.AUDITOR))
    session = _age_session(client, last_write_seconds_ago=5)
    from django.utils import timezone

    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() - timezone.timedelta(seconds=1)
    )
    assert client.get("/")["Location"].startswith("/accounts/login/")
    assert not Session.objects.filter(pk=session.pk, expire_date__gt=timezone.now()).exists()


def test_an_ended_session_cookie_creates_no_session(client, make_staff):
    client.cookies["sessionid"] = "no-such-session-key-000000000000"
    count = Session.objects.count()
    assert client.get("/accounts/login/").status_code == 200
    assert Session.objects.count() == count


def test_next_url_cannot_send_the_user_to_another_site(client, make_staff):
    user = make_staff(Role.AUDITOR)
    device = TOTPDeviceFactory(user=user)
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    response = client.post(
        "/accounts/2fa/verify/?next=https://evil.example/", {"token": current_totp(device)}
    )
    assert response["Location"] == "/"


def test_weak_passwords_are_refused(db):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("password", "12345678901234", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak)


def test_while_django_otp_says_wait_the_right_code_is_not_a_failure(client, make_staff):
    """The attack of issue 15: a correct code right after failures counted as a failure, so
    anyone who knew a user name could push its owner towards the lockout."""
    user = make_staff(Role.AUDITOR)
    device = TOTPDeviceFactory(user=user)
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    client.post("/accounts/2fa/verify/", {"token": "000000"})
    failures = AccessLog.objects.filter(
        username=user.username, action=AccessLog.Action.SECOND_FACTOR_FAILED
    )
    assert failures.count() == 1
    # As after five wrong codes: django-otp makes the next one wait 16 seconds.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=5)
    response = client.post("/accounts/2fa/verify/", {"token": current_totp(device)})
    assert response.status_code == 200
    assert "Too many wrong codes: wait 1" in response.content.decode()  # 15 or 16 seconds
    assert failures.count() == 1  # counted for nothing
    assert client.get("/").status_code == 302  # not logged in yet
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    assert client.post("/accounts/2fa/verify/", {"token": current_totp(device)}).status_code == 302
