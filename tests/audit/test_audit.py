"""The change history and the access log: complete, attributed, and impossible to rewrite."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone
from pghistory.models import Events

from accounts.models import User
from accounts.roles import Role
from audit.addresses import address_behind_proxies
from audit.models import AccessLog
from audit.services import audit_context, log_access

pytestmark = pytest.mark.django_db


def user_events(user: User):
    return Events.objects.filter(pgh_obj_model="accounts.User", pgh_obj_id=str(user.pk)).order_by(
        "pgh_id"
    )


def test_change_through_the_admin_is_recorded_with_who_and_what(login, administrator, make_staff):
    colleague = make_staff(Role.VERIFIER, first_name="Mya")
    client = login(administrator)
    response = client.post(
        f"/admin/accounts/user/{colleague.pk}/change/",
        {
            "username": colleague.username,
            "first_name": "Nandar",
            "last_name": colleague.last_name,
            "email": colleague.email,
            "is_active": "on",
            "groups": [group.pk for group in colleague.groups.all()],
            "preferred_language": "en",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    update = user_events(colleague).filter(pgh_label="update").last()
    assert update.pgh_diff["first_name"] == ["Mya", "Nandar"]
    assert update.pgh_context["user"] == administrator.pk
    assert "password" not in update.pgh_data


def test_bulk_updates_and_raw_sql_are_recorded(make_staff):
    user = make_staff(Role.AUDITOR, first_name="Aye")
    before = user_events(user).count()
    User.objects.filter(pk=user.pk).update(first_name="Htet")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET last_name = 'Oo' WHERE id = %s", [user.pk])
    events = list(user_events(user))
    assert len(events) == before + 2
    assert events[-2].pgh_diff["first_name"] == ["Aye", "Htet"]
    assert events[-1].pgh_data["last_name"] == "Oo"


def test_changes_made_outside_requests_name_their_actor(make_staff, administrator):
    user = make_staff(Role.AUDITOR)
    with audit_context(actor=administrator, task="test"):
        User.objects.filter(pk=user.pk).update(is_active=False)
    assert user_events(user).last().pgh_context["user"] == administrator.pk


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounts_userevent SET first_name = 'forged'",
        "DELETE FROM accounts_userevent",
        "UPDATE accounts_accesslog SET username = 'forged'",
        "DELETE FROM accounts_accesslog",
    ],
)
def test_history_and_access_log_cannot_be_rewritten_even_in_sql(make_staff, statement):
    user = make_staff(Role.AUDITOR)
    log_access(action=AccessLog.Action.LOGIN, actor=user)
    with (
        pytest.raises(DatabaseError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


def test_audit_views_are_for_auditors_and_administrators_only(
    login, make_staff, auditor, administrator
):
    for reader in (auditor, administrator):
        client = login(reader)
        assert client.get("/accounts/audit/").status_code == 200
        assert client.get("/accounts/audit/access/").status_code == 200
    for role in (Role.INTAKE_OFFICER, Role.CASE_MANAGER, Role.FINANCE_APPROVER):
        client = login(make_staff(role))
        assert client.get("/accounts/audit/").status_code == 403
        assert client.get("/accounts/audit/access/").status_code == 403


def test_audit_trail_shows_changes_and_filters_by_record_type(login, auditor, make_staff):
    colleague = make_staff(Role.VERIFIER, first_name="Thiri")
    User.objects.filter(pk=colleague.pk).update(first_name="Khin")
    client = login(auditor)
    page = client.get("/accounts/audit/", {"model": "accounts.User"})
    assert b"Thiri" in page.content and b"Khin" in page.content
    # A record type that does not exist is ignored, not an error.
    assert client.get("/accounts/audit/", {"model": "nonsense'; drop"}).status_code == 200


def test_access_log_filters_reject_nonsense_quietly(login, auditor):
    client = login(auditor)
    response = client.get("/accounts/audit/access/", {"action": "<script>", "username": "x" * 5000})
    assert response.status_code == 200
    assert b"<script>" not in response.content


def test_nobody_can_change_or_delete_access_log_in_the_admin(login, administrator):
    entry = log_access(
        action=AccessLog.Action.EXPORT, actor=administrator, target_label="HV-2026-00001"
    )
    client = login(administrator)
    assert client.get("/admin/audit/accesslog/").status_code == 200
    assert (
        client.post(f"/admin/audit/accesslog/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    client.post(f"/admin/audit/accesslog/{entry.pk}/change/", {"username": "forged"})
    entry.refresh_from_db()
    assert entry.username == administrator.username
    assert AccessLog.objects.filter(pk=entry.pk).exists()


def test_nobody_can_delete_history_in_the_admin(login, administrator, make_staff):
    make_staff(Role.VERIFIER)
    client = login(administrator)
    response = client.get("/admin/pghistory/events/")
    assert response.status_code == 200
    assert b"Delete selected" not in response.content
    assert client.get("/admin/pghistory/events/add/").status_code == 403


def test_history_admin_never_shows_ciphertext_or_plaintext(login, administrator):
    from tests.protected_app.models import ProtectedRecord

    record = ProtectedRecord.objects.create(code="HV-2026-00077", real_name="Thura Aung")
    record.real_name = "Thura Aung Min"
    record.save()
    client = login(administrator)
    for url in (
        "/admin/pghistory/events/",
        "/admin/pghistory/events/?model=protected_app.ProtectedRecord",
    ):
        html = client.get(url).content.decode()
        assert "hv1:" not in html
        assert "Thura" not in html
    assert "(encrypted value)" in client.get("/admin/pghistory/events/").content.decode()


# --- the client's address behind the reverse proxy ----------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        # What the client wrote itself (left of what our proxy appended) is not believed.
        (1, "198.51.100.66, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.66, 203.0.113.7, 10.0.0.5", "203.0.113.7"),
        # No proxy in front: the header is the client's own invention.
        (0, "198.51.100.66", "10.0.0.2"),
        # A request that did not come through the proxies.
        (2, "198.51.100.66", "10.0.0.2"),
        (1, "", "10.0.0.2"),
        (1, "not-an-address", None),
    ],
)
def test_client_address_is_read_behind_exactly_the_configured_proxies(
    rf, settings, proxies, forwarded, expected
):
    settings.HAVEN_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.2")
    assert address_behind_proxies(request) == expected


def test_failed_login_behind_the_proxy_logs_the_client_address_not_the_proxy_or_a_forgery(
    client, make_staff, settings
):
    settings.HAVEN_PROXY_COUNT = 1
    user = make_staff(Role.CASE_MANAGER)
    client.post(
        "/accounts/login/",
        {"username": user.username, "password": "wrong guess"},
        HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.7",
        REMOTE_ADDR="127.0.0.1",
    )
    entry = AccessLog.objects.get(action=AccessLog.Action.LOGIN_FAILED)
    assert entry.ip_address == "203.0.113.7"


def test_a_record_named_by_its_time_says_it_in_local_time_in_the_language_format(make_staff):
    # The admin lists and the audit trail name some records by when they happened: in local time
    # ("6 Dec 2026 14:00" in Yangon), never the database's UTC written the ISO way.
    with time_machine.travel(datetime.datetime(2026, 12, 6, 7, 30, tzinfo=datetime.UTC)):
        entry = log_access(action=AccessLog.Action.LOGIN, actor=make_staff(Role.AUDITOR))
    entry.refresh_from_db()
    with timezone.override("Asia/Yangon"):
        assert str(entry).startswith("6 Dec 2026 14:00 ")
        assert "2026-12-06" not in str(entry) and "07:30" not in str(entry)
