"""Emergency controls: lock every other account, end every session, revoke a lost device.

Each control is one permission-checked, atomic, logged action. In the browser it must be
confirmed with the administrator's current second-factor code, so that a stolen session alone
cannot lock everyone out; on the server's command line (`manage.py emergency_lock`,
`emergency_end_sessions`) the shell account is the proof, and the access log names it.

A lock switches accounts off (`is_active`), which Django enforces everywhere at once: the
password check, every request of an open session (`ModelBackend.get_user` refuses an inactive
user) and every permission check. The `EmergencyLock` remembers exactly which accounts it
switched off, so that lifting it restores those and no others: an account that was already
switched off for another reason stays off, and an account held by another lock still in force
stays off until that lock is lifted too.

A revoked device cannot simply be replaced: enrolment needs only the password, which a thief
may hold with the phone. So revoking also locks the account, and lifting that lock takes two
administrators (a request one makes and another approves, accounts/staff_requests.py, or the
server's command line): the old password is then cleared and the staff member sets a new one
through a one-time link shown to them in person (accounts/setup_links.py), then enrols a new
device. Nobody but the staff member ever knows the new password.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from importlib import import_module

from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import EmergencyLock, EmergencyLockedUser, User
from accounts.permissions import require_permission_logged
from accounts.services import second_factor_wait, second_factor_wait_message
from audit.models import AccessLog
from audit.services import audit_context, log_access

PERMISSION = "accounts.use_emergency_controls"

# Every emergency action holds this PostgreSQL advisory lock for its transaction, so that two
# administrators locking at the same moment cannot lock each other out: the second one finds
# their own account already switched off and is refused.
_ADVISORY_LOCK_KEY = zlib.crc32(b"haven.emergency")


class EmergencyError(Exception):
    """An emergency action refused for a reason a person can read and act on."""


class ConfirmationFailed(EmergencyError):
    """The second-factor code (or, without a device, the password) did not match."""

    def __init__(self, message: str, *, counts_as_failure: bool = True) -> None:
        super().__init__(message)
        # A code that was right a moment ago (used to log in) is a tired person, not a guess.
        self.counts_as_failure = counts_as_failure


# --- who acts ---------------------------------------------------------------------------------


def _refuse_and_log(actor: User | None, what: str, request: HttpRequest | None) -> None:
    require_permission_logged(actor, PERMISSION, what, request)


def confirmation_uses_password(actor: User) -> bool:
    """Without an authenticator (only possible where 2FA is switched off) the administrator
    confirms with their password instead."""
    return not TOTPDevice.objects.filter(user=actor, confirmed=True).exists()


def confirm_second_factor(actor: User, code: str) -> None:
    """The second factor again, outside any transaction: a wrong code must still count in the
    device's throttle (django-otp) even though the action itself is refused."""
    code = (code or "").strip()
    if not code:
        raise ConfirmationFailed(_("Enter the code to confirm."))
    if confirmation_uses_password(actor):
        if settings.HAVEN_REQUIRE_2FA:
            raise ConfirmationFailed(_("Set up your authenticator app first."))
        if not actor.check_password(code):
            raise ConfirmationFailed(_("That password is not right."))
        return
    devices = list(TOTPDevice.objects.filter(user=actor, confirmed=True))
    if wait := second_factor_wait(devices):
        # Not checked: the throttle would refuse even the right code.
        raise ConfirmationFailed(second_factor_wait_message(wait), counts_as_failure=False)
    if any(device.verify_token(code) for device in devices):
        return
    if any(_just_used(device, code) for device in devices):
        raise ConfirmationFailed(
            _("That code has just been used. Wait for the next code in your app."),
            counts_as_failure=False,
        )
    raise ConfirmationFailed(_("That code is not valid. Check your device's clock and try again."))


def _just_used(device: TOTPDevice, code: str) -> bool:
    # A TOTP code is the HOTP code of its time step; django-otp refuses a step used already.
    return (
        device.last_t >= 0
        and f"{hotp(device.bin_key, device.last_t, device.digits):0{device.digits}d}" == code
    )


def _authorise(
    *, actor: User | None, code: str, command_line_user: str, what: str, request
) -> None:
    """A signed-in administrator with the permission and a fresh code, or the server's shell."""
    if command_line_user and actor is None:
        return
    _refuse_and_log(actor, what, request)
    confirm_second_factor(actor, code)


def _log_names(actor: User | None, command_line_user: str) -> dict:
    if actor is not None:
        return {"actor": actor}
    # Stored, so not translated: the access log reads the same in every language.
    return {"username": f"{command_line_user} (command line)"}


def _serialise() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def _still_allowed(actor: User | None) -> None:
    """Inside the serialised transaction: an administrator locked a moment ago by another
    administrator's lock may no longer act."""
    if actor is None:
        return
    if not User.objects.filter(pk=actor.pk, is_active=True).exists():
        raise PermissionDenied(_("Your account has been locked."))


# --- sessions ---------------------------------------------------------------------------------


def _session_store():
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        # The cache and cookie engines cannot list their sessions, so they cannot be ended.
        raise EmergencyError(
            _("Sessions cannot be ended with the session engine %(engine)s.")
            % {"engine": settings.SESSION_ENGINE}
        )
    return store


def _delete_sessions(store, keys: list[str]) -> int:
    if not keys:
        return 0
    store.get_model_class().objects.filter(session_key__in=keys).delete()
    # The cached_db engine keeps a copy in the cache; a copy left there would keep the session.
    prefix = getattr(store, "cache_key_prefix", None)
    if prefix:
        caches[settings.SESSION_CACHE_ALIAS].delete_many([prefix + key for key in keys])
    return len(keys)


def _end_sessions(*, of_users: Iterable[int] | None = None, keep_key: str | None = None) -> int:
    """Delete the sessions of these users (all users when None), except the one named; returns
    how many ended."""
    store = _session_store()
    user_ids = None if of_users is None else {str(user_id) for user_id in of_users}
    decoder = store()
    keys = []
    rows = store.get_model_class().objects.values_list("session_key", "session_data")
    for key, data in rows.iterator():
        if key == keep_key:
            continue
        if user_ids is not None and str(decoder.decode(data).get(SESSION_KEY)) not in user_ids:
            continue
        keys.append(key)
    return _delete_sessions(store, keys)


def _end_sessions_of(user_ids: Iterable[int]) -> int:
    user_ids = list(user_ids)
    return _end_sessions(of_users=user_ids) if user_ids else 0


# --- locks ------------------------------------------------------------------------------------


def _held_user_ids(*, excluding_lock: EmergencyLock | None = None) -> set[int]:
    """Accounts switched off by a lock still in force."""
    entries = EmergencyLockedUser.objects.filter(lock__lifted_at__isnull=True, kept_locked=False)
    if excluding_lock is not None:
        entries = entries.exclude(lock=excluding_lock)
    return set(entries.values_list("user_id", flat=True))


def _switch_off(
    *, kind: str, user_ids: set[int], reason: str, actor: User | None, command_line_user: str
) -> EmergencyLock:
    lock = EmergencyLock.objects.create(
        kind=kind,
        reason=reason,
        created_by=actor,
        command_line_user=command_line_user if actor is None else "",
    )
    EmergencyLockedUser.objects.bulk_create(
        EmergencyLockedUser(lock=lock, user_id=user_id) for user_id in sorted(user_ids)
    )
    User.objects.filter(pk__in=user_ids, is_active=True).update(is_active=False)
    return lock


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise EmergencyError(_("Say why, in a few words."))
    return reason[:500]


def emergency_lock_all(
    *,
    actor: User | None,
    reason: str,
    code: str = "",
    command_line_user: str = "",
    keep: User | None = None,
    request: HttpRequest | None = None,
) -> EmergencyLock:
    """Switch off every account but the acting administrator's (on the command line: but
    `keep`'s, if given) and end all their sessions."""
    reason = _clean_reason(reason)
    _authorise(
        actor=actor, code=code, command_line_user=command_line_user, what="lock", request=request
    )
    spared = actor if actor is not None else keep
    with transaction.atomic(), audit_context(actor=actor, command_line_user=command_line_user):
        _serialise()
        _still_allowed(actor)
        candidates = User.objects.filter(Q(is_active=True) | Q(pk__in=_held_user_ids()))
        if spared is not None:
            candidates = candidates.exclude(pk=spared.pk)
        user_ids = set(candidates.values_list("pk", flat=True))
        lock = _switch_off(
            kind=EmergencyLock.Kind.ALL_ACCOUNTS,
            user_ids=user_ids,
            reason=reason,
            actor=actor,
            command_line_user=command_line_user,
        )
        spared_id = spared.pk if spared is not None else None
        ended = _end_sessions(
            of_users=User.objects.exclude(pk=spared_id).values_list("pk", flat=True)
        )
        log_access(
            action=AccessLog.Action.EMERGENCY_LOCK,
            request=request,
            target=lock,
            target_label=str(lock.pk),
            detail={"accounts": len(user_ids), "sessions_ended": ended, "via": _via(actor)},
            **_log_names(actor, command_line_user),
        )
    return lock


def emergency_lock_lift(
    *,
    lock: EmergencyLock,
    actor: User | None,
    code: str = "",
    command_line_user: str = "",
    keep_locked: Iterable[User] = (),
    request: HttpRequest | None = None,
) -> int:
    """Lift a lock: switch its accounts back on, except those kept locked and those another
    lock still holds. Returns how many accounts were switched back on. A lost-device lock is
    not lifted here: see `lost_device_lock_lift`."""
    if lock.kind == EmergencyLock.Kind.LOST_DEVICE:
        raise EmergencyError(
            _(
                "A lost-device lock is lifted by a request that another administrator approves; "
                "the staff member then sets their own new password."
            )
        )
    _authorise(
        actor=actor, code=code, command_line_user=command_line_user, what="unlock", request=request
    )
    with transaction.atomic(), audit_context(actor=actor, command_line_user=command_line_user):
        _serialise()
        _still_allowed(actor)
        lock = EmergencyLock.objects.select_for_update().get(pk=lock.pk)
        if not lock.is_in_force:
            raise EmergencyError(_("This lock has already been lifted."))
        entries = list(lock.entries.select_related("user"))
        kept_ids = {user.pk for user in keep_locked} & {entry.user_id for entry in entries}
        lock.entries.filter(user_id__in=kept_ids).update(kept_locked=True)
        lock.lifted_at, lock.lifted_by = timezone.now(), actor
        lock.save(update_fields=["lifted_at", "lifted_by"])
        restore_ids = {entry.user_id for entry in entries} - kept_ids - _held_user_ids()
        restored_users = User.objects.filter(pk__in=restore_ids, is_active=False)
        usernames = list(restored_users.values_list("username", flat=True))
        restored = restored_users.update(is_active=True)
        # Logging in while locked counted as failures; they must not keep the account shut.
        for username in usernames:
            reset_login_failures(username=username)
        log_access(
            action=AccessLog.Action.EMERGENCY_UNLOCK,
            request=request,
            target=lock,
            target_label=str(lock.pk),
            detail={
                "accounts": restored,
                "kept_locked": len(kept_ids),
                "kind": lock.kind,
                "via": _via(actor),
            },
            **_log_names(actor, command_line_user),
        )
    return restored


def lost_device_lock_lift(
    *,
    lock: EmergencyLock,
    actor: User | None,
    command_line_user: str = "",
    request: HttpRequest | None = None,
) -> list[User]:
    """Lift a lost-device lock inside the caller's transaction: the approval of a request
    (accounts/staff_requests.py, which checked both administrators) or the server's command
    line. The old password is cleared, so the account opens only once its owner has set a new
    one through a one-time link. Returns the lock's accounts (one that another lock holds too
    stays off until that lock is lifted)."""
    _serialise()
    _still_allowed(actor)
    lock = EmergencyLock.objects.select_for_update().get(pk=lock.pk)
    if lock.kind != EmergencyLock.Kind.LOST_DEVICE:
        raise EmergencyError(_("This is not a lost-device lock."))
    if not lock.is_in_force:
        raise EmergencyError(_("This lock has already been lifted."))
    entries = list(lock.entries.select_related("user"))
    lock.lifted_at, lock.lifted_by = timezone.now(), actor
    lock.save(update_fields=["lifted_at", "lifted_by"])
    users = [entry.user for entry in entries]
    for user in users:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    restore_ids = {user.pk for user in users} - _held_user_ids()
    restored = list(User.objects.filter(pk__in=restore_ids, is_active=False))
    User.objects.filter(pk__in=[user.pk for user in restored]).update(is_active=True)
    for user in users:
        reset_login_failures(username=user.get_username())
    log_access(
        action=AccessLog.Action.EMERGENCY_UNLOCK,
        request=request,
        target=lock,
        target_label=str(lock.pk),
        detail={
            "accounts": len(restored),
            "kept_locked": 0,
            "kind": lock.kind,
            "via": _via(actor),
        },
        **_log_names(actor, command_line_user),
    )
    return users


def end_sessions_of(user_ids: Iterable[int]) -> int:
    """End every session of these accounts (a reset password or second factor, a lifted lock)."""
    return _end_sessions_of(user_ids)


# --- sessions for everyone ------------------------------------------------------------------


def sessions_end_all(
    *,
    actor: User | None,
    code: str = "",
    command_line_user: str = "",
    keep_session_key: str | None = None,
    request: HttpRequest | None = None,
) -> int:
    """End every session (but the one named, normally the administrator's own). Everyone must
    log in again with password and code. Returns how many sessions ended."""
    _authorise(
        actor=actor,
        code=code,
        command_line_user=command_line_user,
        what="end_sessions",
        request=request,
    )
    with transaction.atomic():
        _serialise()
        _still_allowed(actor)
        ended = _end_sessions(keep_key=keep_session_key)
        log_access(
            action=AccessLog.Action.SESSIONS_ENDED,
            request=request,
            detail={
                "sessions_ended": ended,
                "kept_own": bool(keep_session_key),
                "via": _via(actor),
            },
            **_log_names(actor, command_line_user),
        )
    return ended


# --- a lost second-factor device ------------------------------------------------------------


def second_factor_revoke(
    *,
    user: User,
    actor: User | None,
    reason: str,
    code: str = "",
    command_line_user: str = "",
    request: HttpRequest | None = None,
) -> EmergencyLock:
    """Delete every second-factor device of `user`, end their sessions and lock their account
    until two administrators lift the lock (see the module docstring)."""
    reason = _clean_reason(reason)
    _authorise(
        actor=actor,
        code=code,
        command_line_user=command_line_user,
        what="revoke_second_factor",
        request=request,
    )
    if actor is not None and user.pk == actor.pk:
        raise EmergencyError(
            _("You cannot revoke your own device: ask another administrator to do it.")
        )
    with transaction.atomic(), audit_context(actor=actor, command_line_user=command_line_user):
        _serialise()
        _still_allowed(actor)
        user = User.objects.select_for_update().get(pk=user.pk)
        devices = list(devices_for_user(user, confirmed=None))
        for device in devices:
            device.delete()
        held = user.is_active or user.pk in _held_user_ids()
        lock = _switch_off(
            kind=EmergencyLock.Kind.LOST_DEVICE,
            user_ids={user.pk} if held else set(),
            reason=reason,
            actor=actor,
            command_line_user=command_line_user,
        )
        ended = _end_sessions_of([user.pk])
        log_access(
            action=AccessLog.Action.SECOND_FACTOR_REVOKED,
            request=request,
            target=user,
            target_label=user.get_username(),
            detail={
                "devices": len(devices),
                "sessions_ended": ended,
                "lock": lock.pk,
                "via": _via(actor),
            },
            **_log_names(actor, command_line_user),
        )
    return lock


# --- reads ------------------------------------------------------------------------------------


def locks_in_force():
    return (
        EmergencyLock.objects.filter(lifted_at__isnull=True)
        .select_related("created_by")
        .prefetch_related("entries__user")
    )


def recent_locks(limit: int = 20):
    return EmergencyLock.objects.select_related("created_by", "lifted_by")[:limit]


def revocable_users(actor: User):
    """Accounts whose device an administrator may revoke: any other account."""
    return User.objects.exclude(pk=actor.pk).order_by("username")


def is_held_by_lock(user: User) -> bool:
    return user.pk is not None and user.pk in _held_user_ids()


def locked_out_by_emergency(username: str, password: str) -> bool:
    """For the login page: whether this is a locked account *and* the right password, so that
    the staff member is told to call an administrator while a guesser learns nothing."""
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    if user is None or user.is_active or not is_held_by_lock(user):
        return False
    return user.check_password(password)


def _via(actor: User | None) -> str:
    return "web" if actor is not None else "command_line"
