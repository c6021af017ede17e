"""What a signed-in page reads once per request, and what must still take effect at the next
request: a role or permission removed, an account deactivated, a second factor removed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.roles import Role, role_names

pytestmark = pytest.mark.django_db

LONE_ADMINISTRATOR = b"You are the only active administrator"


def test_a_users_roles_are_read_once_per_user_object(make_staff):
    user = User.objects.get(pk=make_staff(Role.CASE_MANAGER, Role.AUDITOR).pk)
    with CaptureQueriesContext(connection) as queries:
        assert role_names(user) == {Role.CASE_MANAGER, Role.AUDITOR}
        assert Role.ADMINISTRATOR not in role_names(user)
    assert len(queries) == 1


def test_a_role_removed_takes_effect_at_the_next_request(login, make_staff):
    administrator = make_staff(Role.ADMINISTRATOR)
    client = login(administrator)
    assert LONE_ADMINISTRATOR in client.get("/").content
    administrator.groups.remove(Group.objects.get(name=Role.ADMINISTRATOR))
    administrator.groups.add(Group.objects.get(name=Role.AUDITOR))
    assert LONE_ADMINISTRATOR not in client.get("/").content
    assert client.get("/accounts/staff/").status_code == 403


def test_a_deactivated_account_is_signed_out_at_the_next_request(login, make_staff):
    user = make_staff(Role.CASE_MANAGER)
    client = login(user)
    assert client.get("/cases/").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/cases/")["Location"].startswith("/accounts/login/")


def test_a_removed_second_factor_takes_effect_at_the_next_request(login, make_staff):
    user = make_staff(Role.CASE_MANAGER)
    client = login(user)
    assert client.get("/cases/").status_code == 200
    user.totpdevice_set.all().delete()
    response = client.get("/cases/")
    assert response.status_code == 302
    assert "/accounts/2fa/" in response["Location"]


def test_the_user_is_loaded_with_roles_and_permissions_as_modelbackend_reads_them(make_staff):
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Permission

    from accounts.backends import StaffBackend

    staff = make_staff(Role.CASE_MANAGER, Role.AUDITOR)
    staff.user_permissions.add(Permission.objects.get(codename="view_audit"))
    with CaptureQueriesContext(connection) as queries:
        user = StaffBackend().get_user(staff.pk)
        assert role_names(user) == {Role.CASE_MANAGER, Role.AUDITOR}
        permissions = user.get_all_permissions()
        assert user.has_perm("cases.decide_case") and user.has_perm("accounts.view_audit")
        assert not user.has_perm("payments.approve_batch")
    assert len(queries) == 1  # the user with their roles and permissions
    reference = ModelBackend()
    fresh = User.objects.get(pk=staff.pk)
    assert permissions == reference.get_all_permissions(fresh)
    assert user._user_perm_cache == reference.get_user_permissions(fresh) == {"accounts.view_audit"}
    assert [getattr(user, field.attname) for field in User._meta.concrete_fields] == [
        getattr(fresh, field.attname) for field in User._meta.concrete_fields
    ]
    # An account switched off, or none at all, is not loaded.
    User.objects.filter(pk=staff.pk).update(is_active=False)
    assert StaffBackend().get_user(staff.pk) is None
    assert StaffBackend().get_user(staff.pk + 1000) is None
    assert StaffBackend().get_user("not a number") is None


def test_the_sessions_device_is_read_in_one_query(login, make_staff):
    client = login(make_staff(Role.CASE_MANAGER))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/cases/").status_code == 200
    device_reads = [query for query in queries if "otp_totp_totpdevice" in query["sql"]]
    assert len(device_reads) == 1


@pytest.mark.parametrize(
    "persistent_id",
    [
        "someone else's",
        "unconfirmed",
        "otp_totp.totpdevice/not-a-number",
        "otp_totp.totpdevice/999999999",
        "nowhere.device/1",
        "accounts.user/{user}",  # a model that is not a device
        "no-slash-at-all",
    ],
)
def test_only_the_users_own_confirmed_device_verifies_the_session(login, make_staff, persistent_id):
    from django_otp.middleware import DEVICE_ID_SESSION_KEY

    from tests.factories import TOTPDeviceFactory

    user = make_staff(Role.CASE_MANAGER)
    client = login(user)
    device = user.totpdevice_set.get()
    if persistent_id == "someone else's":
        persistent_id = TOTPDeviceFactory(user=make_staff(Role.CASE_MANAGER)).persistent_id
    elif persistent_id == "unconfirmed":
        persistent_id = device.persistent_id
        user.totpdevice_set.update(confirmed=False)
        TOTPDeviceFactory(user=user)  # a confirmed one too: the session's is the one that counts
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = persistent_id.format(user=user.pk)
    session.save()

    response = client.get("/cases/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/")
    assert DEVICE_ID_SESSION_KEY not in client.session
