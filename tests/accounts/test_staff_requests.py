"""Two-person control of people and roles: each attack of issue 15 performed and refused, the
requests' four eyes in the services, the database and the browser, the one-time password link,
and the command-line start and recovery."""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import emergency, staff_requests
from accounts.models import EmergencyLock, RoleGrant, SetupLink, StaffRequest, User
from accounts.roles import Role, role_names
from accounts.setup_links import SetupLinkError, setup_link_path, setup_link_use
from audit.models import AccessLog
from notifications.models import Notification
from tests.conftest import current_totp
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory

pytestmark = pytest.mark.django_db

Kind = StaffRequest.Kind
NEW_PASSWORD = "lanterns over the river 77"
REASON = "Covers the desk while a colleague is away"


def fresh_code(user: User) -> str:
    """The code the administrator's app shows now (django-otp refuses a step used already; a
    test moves on as the clock would)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDeviceFactory(
        user=user
    )
    device.last_t = -1
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    return current_totp(device)


@pytest.fixture
def second_administrator(make_staff):
    return make_staff(Role.ADMINISTRATOR, is_staff=True)


def role(name: str) -> Group:
    return Group.objects.get(name=name)


def ask(actor: User, kind: str = Kind.GRANT_ROLE, **fields) -> StaffRequest:
    return staff_requests.staff_request_create(actor=actor, kind=kind, reason=REASON, **fields)


def approve(staff_request: StaffRequest, actor: User) -> staff_requests.Approval:
    return staff_requests.staff_request_approve(
        staff_request=staff_request, actor=actor, code=fresh_code(actor)
    )


def token_of(page: str) -> str:
    return re.search(r"/accounts/password/\?t=([A-Za-z0-9_-]+)", page).group(1)


# --- the attack: an administrator gives themselves a role, or makes a second account ---------


def test_an_administrator_cannot_ask_for_a_role_for_themselves(administrator):
    with pytest.raises(staff_requests.StaffRequestError, match="their own account"):
        ask(administrator, user=administrator, role=role(Role.FINANCE_APPROVER))

    assert not administrator.groups.filter(name=Role.FINANCE_APPROVER).exists()
    assert not StaffRequest.objects.exists()


def test_a_role_is_granted_only_once_another_administrator_approves_with_a_fresh_code(
    administrator, second_administrator, make_staff
):
    officer = make_staff(Role.INTAKE_OFFICER)
    pending = ask(administrator, user=officer, role=role(Role.CASE_MANAGER))
    assert not officer.groups.filter(name=Role.CASE_MANAGER).exists()

    with pytest.raises(emergency.ConfirmationFailed):
        staff_requests.staff_request_approve(
            staff_request=pending, actor=second_administrator, code="000000"
        )
    assert not officer.groups.filter(name=Role.CASE_MANAGER).exists()

    approval = approve(pending, second_administrator)

    decided = approval.staff_request
    assert (decided.status, decided.decided_by) == (
        StaffRequest.Status.APPROVED,
        second_administrator,
    )
    assert officer.groups.filter(name=Role.CASE_MANAGER).exists()
    # A role's grant time is its request's approval time.
    grant = RoleGrant.objects.get(user=officer, role__name=Role.CASE_MANAGER)
    assert (grant.granted_at, grant.request) == (decided.decided_at, decided)
    actions = list(
        AccessLog.objects.filter(target_id=str(decided.pk)).values_list("action", "username")
    )
    assert sorted(actions) == sorted(
        [
            (AccessLog.Action.STAFF_REQUESTED, administrator.username),
            (AccessLog.Action.STAFF_APPROVED, second_administrator.username),
        ]
    )
    assert StaffRequest.pgh_event_model.objects.filter(pgh_obj=decided).count() == 2
    # The other administrators were told a request waits for them.
    waiting = Notification.objects.filter(kind="accounts.staff_request")
    assert list(waiting.values_list("recipient", flat=True)) == [second_administrator.pk]


def test_nobody_approves_their_own_request(administrator, make_staff):
    pending = ask(administrator, user=make_staff(), role=role(Role.FINANCE_APPROVER))

    with pytest.raises(staff_requests.StaffRequestError, match="another administrator"):
        approve(pending, administrator)

    pending.refresh_from_db()
    assert pending.status == StaffRequest.Status.PENDING


def test_the_database_refuses_a_request_decided_by_its_requester_or_its_subject(
    administrator, second_administrator
):
    pending = ask(administrator, user=second_administrator, role=role(Role.AUDITOR))
    now = timezone.now()
    for decider in (administrator, second_administrator):
        with pytest.raises(IntegrityError), transaction.atomic():
            StaffRequest.objects.filter(pk=pending.pk).update(
                status="approved", decided_by=decider, decided_at=now
            )


def test_the_person_a_request_is_about_cannot_approve_it(administrator, second_administrator):
    pending = ask(administrator, user=second_administrator, role=role(Role.FINANCE_APPROVER))

    with pytest.raises(staff_requests.StaffRequestError, match="about you"):
        approve(pending, second_administrator)
    assert not second_administrator.groups.filter(name=Role.FINANCE_APPROVER).exists()


def test_an_expired_request_cannot_be_approved(administrator, second_administrator, make_staff):
    officer = make_staff()
    pending = ask(administrator, user=officer, role=role(Role.VERIFIER))
    StaffRequest.objects.filter(pk=pending.pk).update(expires_at=timezone.now())

    with pytest.raises(staff_requests.StaffRequestError, match="expired"):
        approve(pending, second_administrator)
    assert not officer.groups.exists()


def test_a_second_account_is_a_request_too_and_its_owner_sets_the_password(
    administrator, second_administrator
):
    pending = ask(
        administrator,
        kind=Kind.CREATE_ACCOUNT,
        username="newcomer",
        first_name="Su",
        last_name="Myat",
        role=role(Role.VERIFIER),
    )
    assert not User.objects.filter(username="newcomer").exists()

    approval = approve(pending, second_administrator)

    newcomer = User.objects.get(username="newcomer")
    assert approval.staff_request.user == newcomer
    assert role_names(newcomer) == {Role.VERIFIER}
    assert not newcomer.has_usable_password()  # nobody knows a password for it yet
    assert not SetupLink.objects.filter(token_hash=approval.setup_token).exists()  # hashed
    assert not Notification.objects.filter(kind="accounts.password_set").exists()
    setup_link_use(token=approval.setup_token, password=NEW_PASSWORD)
    newcomer.refresh_from_db()
    assert newcomer.check_password(NEW_PASSWORD)
    # Whoever held the link now holds the account: every administrator hears of it, by no name.
    told = Notification.objects.filter(kind="accounts.password_set")
    assert set(told.values_list("recipient", flat=True)) >= {
        administrator.pk,
        second_administrator.pk,
    }
    assert all("newcomer" not in alert.text for alert in told)


def test_removing_a_role_takes_the_admin_site_with_it(
    administrator, second_administrator, make_staff
):
    auditor = make_staff(Role.AUDITOR, is_staff=True)
    approve(
        ask(administrator, kind=Kind.REMOVE_ROLE, user=auditor, role=role(Role.AUDITOR)),
        second_administrator,
    )

    auditor.refresh_from_db()
    assert not role_names(User.objects.get(pk=auditor.pk)) and not auditor.is_staff
    assert not RoleGrant.objects.filter(user=auditor).exists()


def test_reactivating_is_a_request_and_never_opens_an_account_a_lock_holds(
    administrator, second_administrator, make_staff
):
    left = make_staff(Role.VERIFIER, is_active=False)
    approve(ask(administrator, kind=Kind.REACTIVATE, user=left), second_administrator)
    assert User.objects.get(pk=left.pk).is_active

    lost = make_staff(Role.VERIFIER)
    emergency.second_factor_revoke(
        user=lost, actor=administrator, reason="Phone lost", code=fresh_code(administrator)
    )
    with pytest.raises(staff_requests.StaffRequestError, match="lift the lock"):
        ask(administrator, kind=Kind.REACTIVATE, user=lost)


def test_switching_an_account_off_is_a_request_too(
    administrator, second_administrator, make_staff, login
):
    leaving = make_staff(Role.VERIFIER)
    leaving_client = login(leaving)

    approve(ask(administrator, kind=Kind.DEACTIVATE, user=leaving), second_administrator)

    assert not User.objects.get(pk=leaving.pk).is_active
    assert leaving_client.get("/").status_code == 302


def test_resetting_a_second_factor_clears_the_password_and_ends_the_sessions(
    administrator, second_administrator, make_staff, login
):
    officer = make_staff(Role.VERIFIER)
    officer_client = login(officer)

    approval = approve(
        ask(administrator, kind=Kind.RESET_SECOND_FACTOR, user=officer), second_administrator
    )

    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert officer_client.get("/").status_code == 302
    assert not User.objects.get(pk=officer.pk).has_usable_password()
    assert approval.setup_token


def test_a_request_with_what_is_missing_is_refused_with_a_message_and_changes_nothing(
    administrator, login
):
    client = login(administrator)
    response = client.post(
        reverse("accounts:staff_request_new"), {"kind": "grant_role", "reason": REASON}
    )
    assert response.status_code == 200
    assert "Choose the staff member." in response.content.decode()
    response = client.post(
        reverse("accounts:staff_request_new"),
        {"kind": "create_account", "username": "bad name!", "reason": REASON},
    )
    assert response.status_code == 200
    assert not StaffRequest.objects.exists()


# --- lifting a lost-device lock needs two -------------------------------------------------------


def test_lifting_a_lost_device_lock_needs_a_second_administrator_and_a_one_time_link(
    administrator, second_administrator, make_staff, login
):
    officer = make_staff(Role.CASE_MANAGER)
    TOTPDeviceFactory(user=officer)
    first, second = login(administrator), login(second_administrator)
    lock = emergency.second_factor_revoke(
        user=officer, actor=administrator, reason="Phone lost", code=fresh_code(administrator)
    )

    # The first administrator asks; they cannot approve it themselves.
    response = first.post(
        reverse("accounts:staff_request_new"),
        {"kind": "lift_lock", "lock": lock.pk, "reason": "Met in person"},
    )
    assert response.status_code == 302
    pending = StaffRequest.objects.get(kind=Kind.LIFT_LOCK)
    assert pending.user == officer
    listing = second.get(reverse("accounts:staff_requests")).content.decode()
    assert f"Lift a lost-device lock: {officer.username}" in listing
    assert "Ask to lift this lock" in second.get(reverse("accounts:emergency")).content.decode()
    detail = reverse("accounts:staff_request", args=[pending.pk])
    response = first.post(
        detail, {"decision": "approve", "understood": "on", "code": fresh_code(administrator)}
    )
    assert "another administrator" in response.content.decode()
    assert EmergencyLock.objects.get(pk=lock.pk).is_in_force

    # The second approves and is shown the one-time link as a QR code, once.
    response = second.post(
        detail,
        {"decision": "approve", "understood": "on", "code": fresh_code(second_administrator)},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<svg" in page
    token = token_of(page)
    lock.refresh_from_db()
    assert lock.lifted_by == second_administrator
    # The old password (which a thief may hold with the phone) is dead.
    thief = Client()
    response = thief.post(
        "/accounts/login/", {"username": officer.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200

    listing = second.get(reverse("accounts:staff_requests")).content.decode()
    assert "No request is waiting." in listing and f"#{pending.pk}" in listing
    staff_member = Client()
    link = setup_link_path(token)
    assert staff_member.get(link).status_code == 200
    response = staff_member.post(
        link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    staff_member.post("/accounts/login/", {"username": officer.username, "password": NEW_PASSWORD})
    assert staff_member.get("/")["Location"].startswith("/accounts/2fa/enrol/")
    assert AccessLog.objects.filter(action=AccessLog.Action.PASSWORD_SET, actor=officer).exists()


# --- the one-time link ------------------------------------------------------------------------


@pytest.fixture
def link_token(administrator, second_administrator, make_staff):
    officer = make_staff(Role.VERIFIER)
    return approve(
        ask(administrator, kind=Kind.RESET_PASSWORD, user=officer), second_administrator
    ).setup_token


def test_a_one_time_link_used_twice_is_refused(link_token):
    setup_link_use(token=link_token, password=NEW_PASSWORD)

    with pytest.raises(SetupLinkError, match="already been used"):
        setup_link_use(token=link_token, password="another long passphrase 9")
    response = Client().get(setup_link_path(link_token))
    assert response.status_code == 410


def test_a_one_time_link_used_late_is_refused_and_changes_nothing(link_token, settings):
    SetupLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = Client().post(
        setup_link_path(link_token),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    link = SetupLink.objects.get()
    assert link.used_at is None and not link.user.has_usable_password()


def test_a_weak_password_through_the_link_is_refused_and_the_link_still_works(link_token):
    link = setup_link_path(link_token)
    response = Client().post(link, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert SetupLink.objects.get().used_at is None


def test_an_unknown_link_says_so(db):
    response = Client().get(setup_link_path("not-a-token"))
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


# --- the admin cannot shortcut it ---------------------------------------------------------------

LOCKED_FIELDS = ("groups", "user_permissions", "is_active", "is_staff", "is_superuser", "password")


@pytest.mark.parametrize("superuser", [False, True], ids=["administrator", "superuser"])
def test_the_admins_user_form_has_no_editable_role_or_status_field(
    administrator, login, make_staff, superuser
):
    if superuser:
        User.objects.filter(pk=administrator.pk).update(is_superuser=True)
    client = login(administrator)
    officer = make_staff(Role.INTAKE_OFFICER)
    url = reverse("admin:accounts_user_change", args=[officer.pk])
    form = client.get(url).context["adminform"].form

    assert not set(LOCKED_FIELDS) & set(form.fields)
    # Posting them anyway changes nothing.
    client.post(
        url,
        {
            "username": officer.username,
            "first_name": "Changed",
            "last_name": officer.last_name,
            "email": officer.email,
            "preferred_language": "en",
            "groups": [role(Role.FINANCE_APPROVER).pk],
            "is_superuser": "on",
            "is_staff": "on",
        },
    )
    officer.refresh_from_db()
    assert role_names(User.objects.get(pk=officer.pk)) == {Role.INTAKE_OFFICER}
    assert not officer.is_superuser and not officer.is_staff
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[officer.pk])
    response = client.post(password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 403
    assert User.objects.get(pk=officer.pk).check_password(DEFAULT_PASSWORD)


def test_roles_and_devices_are_read_only_in_the_admin(administrator, login):
    User.objects.filter(pk=administrator.pk).update(is_superuser=True)
    client = login(administrator)
    group = role(Role.INTAKE_OFFICER)
    before = set(group.permissions.values_list("pk", flat=True))

    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": group.name, "permissions": []},
    )

    assert response.status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    assert client.get(reverse("admin:otp_static_staticdevice_add")).status_code == 403


def test_no_schedulable_task_takes_an_actor():
    from operations.schedules import schedulable_tasks

    for task, arguments in schedulable_tasks().items():
        for name in arguments:
            assert not re.search(r"actor|user|by$|officer|staff", name), (task, name)


# --- superusers are a break-glass: each login alerts every administrator ------------------------


def test_a_superuser_login_alerts_every_administrator(
    administrator, second_administrator, make_staff, login
):
    root = make_staff(is_superuser=True, is_staff=True)
    login(root)

    alerted = set(
        Notification.objects.filter(kind="accounts.superuser_login").values_list(
            "recipient", flat=True
        )
    )
    assert {administrator.pk, second_administrator.pk} <= alerted


# --- start and recovery --------------------------------------------------------------------------


def test_a_fresh_installation_is_set_up_with_two_administrators_once(db):
    output = StringIO()
    call_command("setup_administrators", "first", "second", stdout=output)

    admins = User.objects.filter(groups__name=Role.ADMINISTRATOR)
    assert set(admins.values_list("username", flat=True)) == {"first", "second"}
    assert output.getvalue().count("/accounts/password/") == 2
    with pytest.raises(CommandError, match="administrators already"):
        call_command("setup_administrators", "third", "fourth", stdout=StringIO())
    assert AccessLog.objects.filter(action=AccessLog.Action.ADMINISTRATOR_ADDED).count() == 2


def test_a_lone_administrator_is_told_on_every_page_and_another_is_added_only_on_the_server(
    administrator, login, make_staff, monkeypatch
):
    client = login(administrator)
    assert "only active administrator" in client.get("/").content.decode()

    monkeypatch.setattr("getpass.getuser", lambda: "night-operator")
    call_command("add_administrator", "deputy", stdout=StringIO())

    assert "only active administrator" not in client.get("/").content.decode()
    entry = AccessLog.objects.get(action=AccessLog.Action.ADMINISTRATOR_ADDED)
    assert entry.username == "night-operator (command line)" and entry.target_label == "deputy"
    with pytest.raises(CommandError, match="two or more"):
        call_command("add_administrator", "third", stdout=StringIO())
    assert not User.objects.filter(username="third").exists()


# --- bad input: a clear message, nothing changed, never a 500 ----------------------------------

HOSTILE = ["", "x" * 5000, "<script>alert(1)</script>", "999999999999", "-1", "①", "\x00"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_input_to_the_request_pages_changes_nothing(
    administrator, second_administrator, make_staff, login, value
):
    pending = ask(administrator, user=make_staff(), role=role(Role.AUDITOR))
    client = login(second_administrator)
    fields = ("kind", "user", "role", "lock", "username", "email", "reason")
    response = client.post(reverse("accounts:staff_request_new"), dict.fromkeys(fields, value))
    assert response.status_code == 200
    assert client.get(reverse("accounts:staff_request_new"), {"user": value}).status_code == 200
    detail = reverse("accounts:staff_request", args=[pending.pk])
    for decision in ("approve", "refuse", value):
        response = client.post(
            detail,
            {"decision": decision, "understood": value, "code": value, "refusal_reason": value},
        )
        assert response.status_code in (200, 302)
    response = Client().post(
        setup_link_path("a" * 43),
        {"new_password1": value, "new_password2": value},
    )
    assert response.status_code == 410
    assert StaffRequest.objects.get().status in (
        StaffRequest.Status.PENDING,
        StaffRequest.Status.REFUSED,
    )
    assert StaffRequest.objects.count() == 1


def test_the_server_lifts_a_lost_device_lock_with_a_one_time_link(
    administrator, make_staff, monkeypatch
):
    monkeypatch.setattr("getpass.getuser", lambda: "duty-officer")
    officer = make_staff(Role.VERIFIER)
    lock = emergency.second_factor_revoke(
        user=officer, actor=None, reason="Phone lost", command_line_user="duty-officer"
    )
    output = StringIO()

    call_command("emergency_lock", unlock=lock.pk, yes=True, stdout=output)

    officer.refresh_from_db()
    assert officer.is_active and not officer.has_usable_password()
    setup_link_use(token=token_of(output.getvalue()), password=NEW_PASSWORD)
    assert User.objects.get(pk=officer.pk).check_password(NEW_PASSWORD)
    entry = AccessLog.objects.get(action=AccessLog.Action.EMERGENCY_UNLOCK)
    assert entry.username == "duty-officer (command line)"


def test_the_staff_page_offers_requests_instead_of_the_admins_add_page(
    administrator, second_administrator, login
):
    page = login(administrator).get(reverse("accounts:staff_list")).content.decode()

    assert reverse("accounts:staff_request_new") + "?kind=create_account" in page
    assert reverse("accounts:staff_request_new") + f"?user={second_administrator.pk}" in page
    assert "/admin/accounts/user/add/" not in page
