"""Shared fixtures: staff in each role, logged-in clients with a verified second factor."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import connections
from django.test import Client
from django_otp.oath import totp

from accounts.roles import Role
from config.celery import app as celery_app
from protection.keys import data_key_cache
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def migrated_data_restored_at_exit(django_db_setup, django_db_blocker) -> Iterator[None]:
    """A transactional test empties every table when it ends; serialized_rollback brings the
    roles of the data migrations back only at the start of the next one. Bring them back once
    more when the session ends, so that a test database kept for the next run (--reuse-db)
    still has them."""
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            contents = getattr(connection, "_test_serialized_contents", None)
            if contents:
                connection.creation.deserialize_db_from_string(contents)
            connection.close()


@pytest.fixture(autouse=True)
def _celery_not_left_eager():
    """A test that makes Celery run tasks in place must undo it: left on, a later test's task
    would run inside that test's own process (and one waiting on the test's lock, for ever)."""
    yield
    assert not celery_app.conf.task_always_eager, "This test left Celery in eager mode."


@pytest.fixture(autouse=True)
def _private_files_in_a_temporary_folder(settings, tmp_path_factory):
    """Exports and evidence written by a test go to a folder of its own, never to var/private
    of the working tree (a test may point MEDIA_ROOT elsewhere still)."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("private")


@pytest.fixture(autouse=True)
def _forget_cached_data_keys():
    """Unwrapped data keys are cached per process; a test must not see another test's keys."""
    data_key_cache.clear()
    yield
    data_key_cache.clear()


def current_totp(device) -> str:
    """The code an authenticator app would show now for this device."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def make_staff(db) -> Callable:
    def make(*roles: str, **fields):
        return UserFactory(roles=list(roles), **fields)

    return make


@pytest.fixture
def login(db) -> Callable[..., Client]:
    """A client logged in with password and a verified second factor, as a browser would be."""

    def log_in(user, client: Client | None = None) -> Client:
        client = client or Client()
        device = user.totpdevice_set.filter(confirmed=True).first() or TOTPDeviceFactory(user=user)
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302, "password step failed"
        response = client.post("/accounts/2fa/verify/", {"token": current_totp(device)})
        assert response.status_code == 302, "second factor step failed"
        return client

    return log_in


@pytest.fixture
def auditor(make_staff):
    return make_staff(Role.AUDITOR)


@pytest.fixture
def administrator(make_staff):
    return make_staff(Role.ADMINISTRATOR, is_staff=True)
