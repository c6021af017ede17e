"""Emergency controls: lock every other account, lift the lock, end every session, revoke a lost
device; who may use them, the confirmation code, the access log and the command line."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import emergency
from accounts.models import EmergencyLock, User
from accounts.roles import Role
from audit.models import AccessLog
from tests.conftest import current_totp
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory
from tests.racing import race

pytestmark = pytest.mark.django_db

LOCK_URL = "/accounts/emergency/lock/"
END_SESSIONS_URL = "/accounts/emergency/end-sessions/"
REVOKE_URL = "/accounts/emergency/revoke-device/"
REASON = "Office laptop taken at a checkpoint"


def fresh_code(user: User) -> str:
    """A code the administrator's app shows now. django-otp refuses a code used once already
    (the login just used this step's), as it should; a test moves on as the clock would."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    device.last_t = -1
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    return current_totp(device)


def wrong_code(user: User) -> str:
    return f"{(int(fresh_code(user)) + 1) % 1_000_000:06d}"


def is_logged_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def password_step(username: str, password: str = DEFAULT_PASSWORD):
    return Client().post("/accounts/login/", {"username": username, "password": password})


@pytest.fixture
def admin_client(login, administrator):
    return login(administrator)


def lock_by_web(client: Client, administrator: User, **overrides):
    data = {"reason": REASON, "understood": "on", **overrides}
    if "code" not in data:
        data["code"] = fresh_code(administrator)
    return client.post(LOCK_URL, data)


def test_lock_all_locks_out_everyone_but_the_administrator(
    login, make_staff, administrator, admin_client
):
    officer = make_staff(Role.INTAKE_OFFICER)
    second_administrator = make_staff(Role.ADMINISTRATOR, is_staff=True)
    officer_client, second_client = login(officer), login(second_administrator)

    response = lock_by_web(admin_client, administrator)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:emergency")
    # Their open sessions end at once...
    for client in (officer_client, second_client):
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    # ...and the right password (and a valid code) no longer lets them in.
    for user in (officer, second_administrator):
        response = password_step(user.username)
        assert response.status_code == 200
        assert "Your account is locked. Contact your administrator." in response.content.decode()
    # The administrator carries on.
    assert admin_client.get("/accounts/emergency/").status_code == 200
    assert User.objects.get(pk=administrator.pk).is_active


def test_a_wrong_password_for_a_locked_account_says_nothing_about_the_lock(
    make_staff, administrator
):
    officer = make_staff(Role.VERIFIER)
    emergency.emergency_lock_all(actor=None, reason=REASON, command_line_user="ops")
    response = password_step(officer.username, "not the password at all")
    assert response.status_code == 200
    assert "locked" not in response.content.decode()
    assert "Please enter a correct" in response.content.decode()


def test_open_session_of_a_locked_user_is_refused_even_if_its_deletion_was_missed(
    login, make_staff, administrator, monkeypatch
):
    officer = make_staff(Role.CASE_MANAGER)
    officer_client = login(officer)
    monkeypatch.setattr(emergency, "_end_sessions", lambda **kwargs: 0)
    emergency.emergency_lock_all(actor=None, reason=REASON, command_line_user="ops")
    assert Session.objects.count() >= 1  # the session is still there...
    response = officer_client.get("/cases/")
    assert response.status_code == 302  # ...but it opens nothing
    assert response["Location"].startswith("/accounts/login/")


def test_lifting_a_lock_restores_exactly_the_accounts_it_locked(login, make_staff, administrator):
    login(administrator)
    first, second, kept = (make_staff(Role.VERIFIER) for _ in range(3))
    deactivated_before = make_staff(Role.VERIFIER, is_active=False)
    lost_phone = make_staff(Role.FINANCE_OFFICER)
    device_lock = emergency.second_factor_revoke(
        user=lost_phone, actor=administrator, reason="Phone lost", code=fresh_code(administrator)
    )
    lock = emergency.emergency_lock_all(
        actor=administrator, reason=REASON, code=fresh_code(administrator)
    )
    assert set(lock.users.all()) == {first, second, kept, lost_phone}

    restored = emergency.emergency_lock_lift(
        lock=lock, actor=administrator, code=fresh_code(administrator), keep_locked=[kept]
    )

    assert restored == 2
    active = set(User.objects.filter(is_active=True))
    assert active == {administrator, first, second}
    # Deactivated for another reason: stays off. Kept locked: stays off. Still held by the
    # lost-device lock: stays off until that is lifted too (by two people, see
    # tests/accounts/test_staff_requests.py).
    assert not User.objects.get(pk=deactivated_before.pk).is_active
    assert not User.objects.get(pk=lost_phone.pk).is_active
    with pytest.raises(emergency.EmergencyError, match="another administrator approves"):
        emergency.emergency_lock_lift(
            lock=device_lock, actor=administrator, code=fresh_code(administrator)
        )
    with transaction.atomic():
        emergency.lost_device_lock_lift(
            lock=device_lock, actor=None, command_line_user="duty-officer"
        )
    lost_phone = User.objects.get(pk=lost_phone.pk)
    assert lost_phone.is_active and not lost_phone.has_usable_password()
    with pytest.raises(emergency.EmergencyError):
        emergency.emergency_lock_lift(
            lock=lock, actor=administrator, code=fresh_code(administrator)
        )


def test_lifting_from_the_web_lets_the_staff_member_back_in(
    settings, make_staff, administrator, admin_client
):
    officer = make_staff(Role.INTAKE_OFFICER)
    lock_by_web(admin_client, administrator)
    # Trying again and again while locked trips the lockout; lifting the lock clears it.
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        password_step(officer.username)
    lock = EmergencyLock.objects.get()
    page = admin_client.get(reverse("accounts:emergency_lift", args=[lock.pk]))
    assert officer.username in page.content.decode()
    response = admin_client.post(
        reverse("accounts:emergency_lift", args=[lock.pk]),
        {"understood": "on", "code": fresh_code(administrator)},
    )
    assert response.status_code == 302
    assert password_step(officer.username)["Location"] == "/"
    assert EmergencyLock.objects.get().lifted_by == administrator


def test_a_wrong_code_changes_nothing_and_counts_as_a_failure(
    login, make_staff, administrator, admin_client
):
    officer = make_staff(Role.INTAKE_OFFICER)
    officer_client = login(officer)
    response = lock_by_web(admin_client, administrator, code=wrong_code(administrator))
    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    assert not EmergencyLock.objects.exists()
    assert User.objects.filter(is_active=True).count() == 2
    assert is_logged_in(officer_client)
    assert AccessLog.objects.filter(
        action=AccessLog.Action.SECOND_FACTOR_FAILED, actor=administrator
    ).exists()
    assert not AccessLog.objects.filter(action=AccessLog.Action.EMERGENCY_LOCK).exists()
    # The code just used to log in is refused, with advice, but is not counted as a guess.
    failures = AccessLog.objects.filter(action=AccessLog.Action.SECOND_FACTOR_FAILED).count()
    device = TOTPDevice.objects.get(user=administrator)
    device.last_t = TOTP(device.bin_key, device.step, device.t0, device.digits).t()
    device.throttling_failure_count = 0
    device.save()
    response = lock_by_web(admin_client, administrator, code=current_totp(device))
    assert "Wait for the next code" in response.content.decode()
    assert not EmergencyLock.objects.exists()
    assert (
        AccessLog.objects.filter(action=AccessLog.Action.SECOND_FACTOR_FAILED).count() == failures
    )
    # Without ticking "I understand" nothing happens either, even with the right code.
    response = lock_by_web(admin_client, administrator, understood="")
    assert response.status_code == 200 and not EmergencyLock.objects.exists()


def test_a_stolen_session_cannot_guess_the_code_for_long(
    settings, make_staff, administrator, admin_client
):
    settings.AXES_FAILURE_LIMIT = 2
    make_staff(Role.INTAKE_OFFICER)
    lock_by_web(admin_client, administrator, code=wrong_code(administrator))
    response = lock_by_web(admin_client, administrator, code=wrong_code(administrator))
    assert b"Account locked" in response.content  # locked out, and the session is over
    assert admin_client.get("/accounts/emergency/")["Location"].startswith("/accounts/login/")
    assert not EmergencyLock.objects.exists()


def test_end_every_session_logs_everyone_out_but_locks_nobody_out(
    login, make_staff, administrator, admin_client
):
    officer = make_staff(Role.HOUSING_COORDINATOR)
    officer_client = login(officer)
    response = admin_client.post(
        END_SESSIONS_URL,
        {"understood": "on", "keep_own": "on", "code": fresh_code(administrator)},
    )
    assert response.status_code == 302
    assert not is_logged_in(officer_client)
    assert is_logged_in(admin_client)
    assert password_step(officer.username)["Location"] == "/"  # not locked out
    entry = AccessLog.objects.get(action=AccessLog.Action.SESSIONS_ENDED)
    assert entry.actor == administrator and entry.detail["sessions_ended"] == 1

    # Without "keep me logged in", the administrator's own session ends too.
    response = admin_client.post(
        END_SESSIONS_URL, {"understood": "on", "code": fresh_code(administrator)}
    )
    assert response["Location"] == "/accounts/login/"
    assert Session.objects.filter(expire_date__isnull=False).count() <= 1
    assert not is_logged_in(admin_client)


def test_revoking_a_lost_device_needs_an_administrator_before_the_next_login(
    login, make_staff, administrator, admin_client
):
    officer = make_staff(Role.CASE_MANAGER)
    officer_client = login(officer)
    old_device = TOTPDevice.objects.get(user=officer)
    old_code = current_totp(old_device)

    response = admin_client.post(
        REVOKE_URL,
        {
            "user": officer.pk,
            "reason": "Phone lost",
            "understood": "on",
            "code": fresh_code(administrator),
        },
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not is_logged_in(officer_client)
    # Whoever has the phone and the password gets neither a login nor a chance to enrol.
    thief = Client()
    response = thief.post(
        "/accounts/login/", {"username": officer.username, "password": DEFAULT_PASSWORD}
    )
    assert "Your account is locked" in response.content.decode()
    assert thief.post("/accounts/2fa/verify/", {"token": old_code})["Location"].startswith(
        "/accounts/login/"
    )
    assert thief.get("/accounts/2fa/enrol/")["Location"].startswith("/accounts/login/")

    # One administrator alone cannot lift the lock: the lift page asks for a request instead,
    # which another administrator must approve (tests/accounts/test_staff_requests.py).
    lock = EmergencyLock.objects.get(kind=EmergencyLock.Kind.LOST_DEVICE)
    lift_url = reverse("accounts:emergency_lift", args=[lock.pk])
    response = admin_client.post(
        lift_url,
        {
            "understood": "on",
            "code": fresh_code(administrator),
            "new_password1": "river stones at dawn 42",
            "new_password2": "river stones at dawn 42",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:staff_request_new"))
    assert EmergencyLock.objects.get(pk=lock.pk).is_in_force
    assert not User.objects.get(pk=officer.pk).is_active


def test_ticking_active_again_does_not_open_a_locked_account(
    make_staff, administrator, admin_client
):
    """The lock is in force even if the account is switched on behind its back (the admin's
    Active box is read-only now, but a shell or an old script could still do it)."""
    officer = make_staff(Role.CASE_MANAGER)
    TOTPDeviceFactory(user=officer)
    emergency.second_factor_revoke(
        user=officer, actor=administrator, reason="Phone lost", code=fresh_code(administrator)
    )
    User.objects.filter(pk=officer.pk).update(is_active=True)

    response = password_step(officer.username)

    assert response.status_code == 200
    assert "Your account is locked" in response.content.decode()


def test_administrator_cannot_revoke_their_own_device(administrator, admin_client):
    with pytest.raises(emergency.EmergencyError):
        emergency.second_factor_revoke(
            user=administrator,
            actor=administrator,
            reason="mine",
            code=fresh_code(administrator),
        )
    assert TOTPDevice.objects.filter(user=administrator).exists()


EMERGENCY_URLS = [
    "/accounts/emergency/",
    LOCK_URL,
    END_SESSIONS_URL,
    REVOKE_URL,
    "/accounts/emergency/locks/{lock}/lift/",
]


@pytest.mark.parametrize("role", Role.ALL)
def test_role_matrix_only_administrators_reach_the_emergency_controls(login, make_staff, role):
    """Every emergency URL, every role: the administrator gets the page; everyone else a 403,
    a refused GET and POST both in the access log, and nothing changes."""
    lock = emergency.emergency_lock_all(
        actor=None, reason=REASON, command_line_user="ops", keep=make_staff(Role.ADMINISTRATOR)
    )
    user = make_staff(role, is_staff=role == Role.ADMINISTRATOR)  # made after: not locked
    client = login(user)
    urls = [url.format(lock=lock.pk) for url in EMERGENCY_URLS]
    allowed = role == Role.ADMINISTRATOR
    for url in urls:
        response = client.get(url)
        assert response.status_code == (200 if allowed else 403), f"{role} {url}"
        if allowed:
            html = response.content.decode()
            assert "<style" not in html and " style=" not in html
    if not allowed:
        assert client.post(LOCK_URL, {"reason": REASON, "understood": "on"}).status_code == 403
        denied = AccessLog.objects.filter(action=AccessLog.Action.DENIED, actor=user)
        assert denied.count() == len(urls) + 1
        assert EmergencyLock.objects.count() == 1
    navigation = client.get("/").content.decode()
    assert ('href="/accounts/emergency/"' in navigation) == allowed


def test_services_refuse_without_permission_and_log_it(make_staff):
    auditor = make_staff(Role.AUDITOR)
    TOTPDeviceFactory(user=auditor)
    with pytest.raises(PermissionDenied):
        emergency.sessions_end_all(actor=auditor, code=current_totp(auditor.totpdevice_set.get()))
    entry = AccessLog.objects.get(action=AccessLog.Action.DENIED)
    assert entry.actor == auditor and entry.detail["action"] == "end_sessions"


def test_access_log_names_the_actor_and_counts_but_no_names_or_reason(
    make_staff, administrator, admin_client
):
    officers = [make_staff(Role.INTAKE_OFFICER) for _ in range(3)]
    lock_by_web(admin_client, administrator)
    entry = AccessLog.objects.get(action=AccessLog.Action.EMERGENCY_LOCK)
    assert entry.actor == administrator
    assert entry.detail["accounts"] == 3
    assert entry.detail["via"] == "web"
    recorded = f"{entry.detail} {entry.target_label} {entry.username}"
    for officer in officers:
        assert officer.last_name not in recorded and officer.username not in recorded
    assert REASON not in recorded


def test_command_line_lock_and_unlock_name_the_operating_system_user(
    login, make_staff, administrator, monkeypatch
):
    monkeypatch.setattr("getpass.getuser", lambda: "duty-officer")
    officer = make_staff(Role.VERIFIER)
    officer_client = login(officer)
    call_command("emergency_lock", reason=REASON, keep=administrator.username, yes=True)
    lock = EmergencyLock.objects.get()
    assert lock.command_line_user == "duty-officer" and lock.created_by is None
    assert not is_logged_in(officer_client)
    assert set(User.objects.filter(is_active=True)) == {administrator}
    entry = AccessLog.objects.get(action=AccessLog.Action.EMERGENCY_LOCK)
    assert entry.actor is None and entry.username == "duty-officer (command line)"

    call_command("emergency_lock", unlock=lock.pk, yes=True)
    assert User.objects.get(pk=officer.pk).is_active
    assert AccessLog.objects.get(action=AccessLog.Action.EMERGENCY_UNLOCK).detail["accounts"] == 1


def test_command_line_ends_every_session(login, make_staff, administrator):
    clients = [login(administrator), login(make_staff(Role.AUDITOR))]
    call_command("emergency_end_sessions", yes=True)
    assert not any(is_logged_in(client) for client in clients)
    assert AccessLog.objects.get(action=AccessLog.Action.SESSIONS_ENDED).detail[
        "sessions_ended"
    ] == len(clients)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_administrators_locking_at_once_do_not_lock_each_other_out(make_staff):
    first, second = (make_staff(Role.ADMINISTRATOR, is_staff=True) for _ in range(2))
    codes = {}
    for administrator in (first, second):
        TOTPDeviceFactory(user=administrator)
        codes[administrator.pk] = fresh_code(administrator)

    results, errors = race(
        [
            lambda administrator=administrator: emergency.emergency_lock_all(
                actor=administrator, reason=REASON, code=codes[administrator.pk]
            )
            for administrator in (first, second)
        ]
    )

    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], PermissionDenied)
    assert User.objects.filter(is_active=True).count() == 1


def test_without_an_authenticator_the_password_confirms(settings, client, make_staff):
    """Only where 2FA is switched off (the demo) may an administrator have no device."""
    settings.HAVEN_REQUIRE_2FA = False
    administrator = make_staff(Role.ADMINISTRATOR, is_staff=True)
    officer = make_staff(Role.INTAKE_OFFICER)
    client.force_login(administrator)
    assert "Your password, to confirm" in client.get(LOCK_URL).content.decode()
    data = {"reason": REASON, "understood": "on"}
    response = client.post(LOCK_URL, {**data, "code": "not my password"})
    assert "That password is not right." in response.content.decode()
    assert User.objects.get(pk=officer.pk).is_active
    response = client.post(LOCK_URL, {**data, "code": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert not User.objects.get(pk=officer.pk).is_active


def test_while_django_otp_says_wait_the_right_code_is_not_a_failure(
    make_staff, administrator, admin_client
):
    lock_by_web(admin_client, administrator, code=wrong_code(administrator))
    failures = AccessLog.objects.filter(action=AccessLog.Action.SECOND_FACTOR_FAILED)
    assert failures.count() == 1
    device = TOTPDevice.objects.get(user=administrator)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=5, last_t=-1)
    device.refresh_from_db()
    response = lock_by_web(admin_client, administrator, code=current_totp(device))
    assert "Too many wrong codes: wait 1" in response.content.decode()  # 15 or 16 seconds
    assert not EmergencyLock.objects.exists()
    assert failures.count() == 1
