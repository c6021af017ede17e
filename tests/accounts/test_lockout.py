"""The lockout cannot be turned against staff: failures count by user name and address, so a
stranger locks out only their own address; a per-account cap still holds when the guesses come
from many addresses; and an account failing from many addresses alerts the administrators."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.roles import Role
from audit.models import AccessLog
from notifications.models import Notification
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


GUESS = "wrong password, a guess"


def attempt(username: str, address: str, password: str = GUESS):
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def test_failures_from_one_address_do_not_lock_the_staff_member_out_elsewhere(make_staff, settings):
    officer = make_staff(Role.VERIFIER)
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        attempt(officer.username, "203.0.113.9")

    assert attempt(officer.username, "203.0.113.9", DEFAULT_PASSWORD).status_code == 429
    response = attempt(officer.username, "198.51.100.20", DEFAULT_PASSWORD)
    assert response.status_code == 302  # on to the second factor


def test_guesses_spread_over_many_addresses_hit_the_per_account_cap(make_staff, settings):
    settings.HAVEN_ACCOUNT_FAILURE_CAP = 8
    officer = make_staff(Role.VERIFIER)
    for number in range(8):
        attempt(officer.username, f"192.0.2.{number + 1}")

    # Even the right password is not checked now, from any address.
    response = attempt(officer.username, "198.51.100.77", DEFAULT_PASSWORD)

    assert response.status_code == 200
    assert "Too many failed logins for this account" in response.content.decode()
    assert not AccessLog.objects.filter(action=AccessLog.Action.LOGIN, actor=officer).exists()


def test_an_account_failing_from_many_addresses_alerts_the_administrators(
    make_staff, administrator, settings
):
    settings.HAVEN_LOGIN_ALERT_ADDRESSES = 3
    officer = make_staff(Role.VERIFIER)
    attempt(officer.username, "192.0.2.1")
    attempt(officer.username, "192.0.2.2")
    assert not Notification.objects.filter(kind="accounts.login_failures_spread").exists()

    attempt(officer.username, "192.0.2.3")
    attempt(officer.username, "192.0.2.4")

    alerts = Notification.objects.filter(kind="accounts.login_failures_spread")
    assert list(alerts.values_list("recipient", flat=True)) == [administrator.pk]  # once an hour
    assert officer.username not in alerts.get().text
