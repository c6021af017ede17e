"""Two-person control of people and roles: creating an account, granting or removing a role,
switching an account off or on again, resetting a password or second factor and lifting a
lost-device lock are each a request that one administrator makes and another approves with a
fresh second-factor code. Nobody decides their own request or one about themselves (the
database refuses it too), a request not approved within HAVEN_STAFF_REQUEST_HOURS expires, both
steps go to the access log and the change history, and both administrators must be past the
cooling period (accounts/cooling.py). A role's grant time is its request's approval time.

The administrator who approves a new account, a reset or a lifted lock is shown a one-time link
(accounts/setup_links.py) for the staff member to set their own password; nobody else knows it.
"""

from __future__ import annotations

import datetime
import zlib
from dataclasses import dataclass

from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.dispatch import Signal
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user

from accounts import emergency
from accounts.cooling import require_settled
from accounts.models import EmergencyLock, RoleGrant, StaffRequest, User
from accounts.permissions import require_permission_logged
from accounts.roles import Role, role_label
from accounts.setup_links import setup_link_issue
from audit.models import AccessLog
from audit.services import audit_context, log_access

PERMISSION = "accounts.manage_staff"
Kind = StaffRequest.Kind
Status = StaffRequest.Status

# Roles whose members use the admin site (is_staff follows them).
ADMIN_SITE_ROLES = {Role.ADMINISTRATOR, Role.AUDITOR}
# Kinds after which the staff member sets a new password through a one-time link.
SETS_PASSWORD = {Kind.CREATE_ACCOUNT, Kind.RESET_PASSWORD, Kind.RESET_SECOND_FACTOR, Kind.LIFT_LOCK}

# The command line's additions of administrators hold this lock, so that two at once cannot
# both find fewer than two administrators.
_ADVISORY_LOCK_KEY = zlib.crc32(b"haven.administrators")


# Sent once a request is made, for the alerts (notifications/, which accounts may not import).
staff_request_made = Signal()


class StaffRequestError(Exception):
    """A request, approval or refusal refused for a reason a person can read and act on."""


@dataclass
class Approval:
    staff_request: StaffRequest
    # The one-time link's token, shown once to the approver (None when nothing to set).
    setup_token: str | None = None


def _refuse_and_log(actor: User | None, what: str, request: HttpRequest | None) -> None:
    require_permission_logged(actor, PERMISSION, what, request)


def _label(staff_request: StaffRequest) -> str:
    # Stored, so not translated: the access log reads the same in every language.
    return f"{staff_request.kind} #{staff_request.pk}"


def _detail(staff_request: StaffRequest) -> dict:
    return {
        "kind": staff_request.kind,
        "user": staff_request.subject_name,
        "role": staff_request.role.name if staff_request.role_id else "",
    }


def is_expired(staff_request: StaffRequest, now: datetime.datetime | None = None) -> bool:
    return staff_request.status == Status.PENDING and staff_request.expires_at <= (
        now or timezone.now()
    )


def active_administrators() -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name=Role.ADMINISTRATOR).distinct()


def _update_admin_site_access(user: User) -> None:
    """is_staff (the admin site) follows the roles; a superuser keeps it."""
    if user.is_superuser:
        return
    needs = user.groups.filter(name__in=ADMIN_SITE_ROLES).exists()
    if user.is_staff != needs:
        user.is_staff = needs
        user.save(update_fields=["is_staff"])


# --- asking -------------------------------------------------------------------------------------


def _check_new_account(username: str, *, asked_by: StaffRequest | None = None) -> str:
    username = (username or "").strip()
    if not username:
        raise StaffRequestError(_("Give the new account's user name."))
    try:
        User.username_validator(username)
        User._meta.get_field("username").run_validators(username)
    except ValidationError as error:
        raise StaffRequestError(" ".join(error.messages)) from error
    if User.objects.filter(username__iexact=username).exists():
        raise StaffRequestError(_("An account with this user name already exists."))
    pending = StaffRequest.objects.filter(
        kind=Kind.CREATE_ACCOUNT,
        status=Status.PENDING,
        username__iexact=username,
        expires_at__gt=timezone.now(),
    )
    if asked_by is not None:
        pending = pending.exclude(pk=asked_by.pk)
    if pending.exists():
        raise StaffRequestError(
            _("An account with this user name is already waiting for approval.")
        )
    return username


def _check_subject(
    kind: str, user: User | None, role: Group | None, lock: EmergencyLock | None
) -> None:
    """What each kind needs, checked when asked and again when approved."""
    if kind != Kind.CREATE_ACCOUNT and user is None:
        raise StaffRequestError(_("Choose the staff member."))
    if role is not None and role.name not in Role.ALL:
        raise StaffRequestError(_("Choose one of Haven's roles."))
    if kind in (Kind.GRANT_ROLE, Kind.REMOVE_ROLE) and role is None:
        raise StaffRequestError(_("Choose the role."))
    if kind == Kind.GRANT_ROLE and user.groups.filter(pk=role.pk).exists():
        raise StaffRequestError(_("This staff member already has this role."))
    if kind == Kind.REMOVE_ROLE and not user.groups.filter(pk=role.pk).exists():
        raise StaffRequestError(_("This staff member does not have this role."))
    if kind == Kind.DEACTIVATE and not user.is_active:
        raise StaffRequestError(_("This account is switched off already."))
    if kind == Kind.REACTIVATE:
        if user.is_active:
            raise StaffRequestError(_("This account is active already."))
        if emergency.is_held_by_lock(user):
            raise StaffRequestError(
                _("An emergency lock holds this account: lift the lock instead.")
            )
    if kind == Kind.LIFT_LOCK:
        if lock is None or lock.kind != EmergencyLock.Kind.LOST_DEVICE:
            raise StaffRequestError(_("Choose a lost-device lock."))
        if not lock.is_in_force:
            raise StaffRequestError(_("This lock has already been lifted."))
        if not lock.entries.filter(user=user).exists():
            raise StaffRequestError(_("This lock does not hold this staff member."))


def staff_request_create(
    *,
    actor: User,
    kind: str,
    reason: str,
    user: User | None = None,
    role: Group | None = None,
    lock: EmergencyLock | None = None,
    username: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    request: HttpRequest | None = None,
) -> StaffRequest:
    """Ask for a change to a staff account; another administrator must approve it."""
    _refuse_and_log(actor, "staff_request.create", request)
    if kind not in Kind.values:
        raise StaffRequestError(_("Choose what to ask for."))
    reason = (reason or "").strip()
    if not reason:
        raise StaffRequestError(_("Say why, in a few words."))
    if kind == Kind.LIFT_LOCK and lock is not None and user is None:
        entry = lock.entries.select_related("user").first()
        user = entry.user if entry else None
    if kind == Kind.CREATE_ACCOUNT:
        user = None
        username = _check_new_account(username)
    else:
        username = first_name = last_name = email = ""
    if user is not None and user.pk == actor.pk:
        raise StaffRequestError(
            _("Nobody asks for a change to their own account: ask another administrator.")
        )
    require_settled(actor, PERMISSION)
    with transaction.atomic(), audit_context(actor=actor, action="staff_request.create"):
        if user is not None:
            user = User.objects.select_for_update().get(pk=user.pk)
        _check_subject(kind, user, role, lock)
        duplicate = StaffRequest.objects.filter(
            kind=kind,
            user=user,
            role=role,
            lock=lock,
            status=Status.PENDING,
            expires_at__gt=timezone.now(),
        )
        if user is not None and duplicate.exists():
            raise StaffRequestError(_("The same request is already waiting for approval."))
        staff_request = StaffRequest.objects.create(
            kind=kind,
            user=user,
            role=role,
            lock=lock if kind == Kind.LIFT_LOCK else None,
            username=username,
            first_name=(first_name or "").strip()[:150],
            last_name=(last_name or "").strip()[:150],
            email=(email or "").strip()[:254],
            reason=reason[:500],
            requested_by=actor,
            expires_at=timezone.now()
            + datetime.timedelta(hours=settings.HAVEN_STAFF_REQUEST_HOURS),
        )
        log_access(
            action=AccessLog.Action.STAFF_REQUESTED,
            actor=actor,
            request=request,
            target=staff_request,
            target_label=_label(staff_request),
            detail=_detail(staff_request),
        )
        staff_request_made.send(sender=StaffRequest, staff_request=staff_request)
    return staff_request


# --- deciding -----------------------------------------------------------------------------------


def _check_decider(staff_request: StaffRequest, actor: User) -> None:
    if staff_request.status != Status.PENDING:
        raise StaffRequestError(
            _("This request is %(status)s: it can no longer be decided.")
            % {"status": staff_request.get_status_display()}
        )
    if is_expired(staff_request):
        raise StaffRequestError(_("This request has expired: ask again if it is still needed."))
    if staff_request.requested_by_id == actor.pk:
        raise StaffRequestError(
            _("You asked for this: another administrator must approve or refuse it.")
        )
    if staff_request.user_id == actor.pk:
        raise StaffRequestError(
            _("This request is about you: another administrator must approve or refuse it.")
        )


def staff_request_approve(
    *, staff_request: StaffRequest, actor: User, code: str, request: HttpRequest | None = None
) -> Approval:
    """Approve with a fresh second-factor code and carry the change out, in one transaction.
    Of two approvals at once, the second finds the request decided and is refused."""
    _refuse_and_log(actor, "staff_request.approve", request)
    # Checked before the code, so that a refusal costs no code; checked again under the lock.
    _check_decider(staff_request, actor)
    require_settled(actor, PERMISSION)
    # Outside the transaction: a wrong code must count in the device's throttle.
    emergency.confirm_second_factor(actor, code)
    with transaction.atomic(), audit_context(actor=actor, action="staff_request.approve"):
        locked = StaffRequest.objects.select_for_update().get(pk=staff_request.pk)
        _check_decider(locked, actor)
        requester = User.objects.get(pk=locked.requested_by_id)
        if not requester.is_active or not requester.has_perm(PERMISSION):
            raise StaffRequestError(
                _("Whoever asked for this is no longer an administrator: refuse it.")
            )
        require_settled(requester, PERMISSION)
        now = timezone.now()
        token = _carry_out(locked, actor, request, now)
        locked.status, locked.decided_by, locked.decided_at = Status.APPROVED, actor, now
        locked.save(update_fields=["status", "decided_by", "decided_at", "user"])
        log_access(
            action=AccessLog.Action.STAFF_APPROVED,
            actor=actor,
            request=request,
            target=locked,
            target_label=_label(locked),
            detail={**_detail(locked), "requested_by": requester.get_username()},
        )
    return Approval(staff_request=locked, setup_token=token)


def staff_request_refuse(
    *, staff_request: StaffRequest, actor: User, reason: str, request: HttpRequest | None = None
) -> StaffRequest:
    _refuse_and_log(actor, "staff_request.refuse", request)
    reason = (reason or "").strip()
    if not reason:
        raise StaffRequestError(_("Say why you refuse it."))
    with transaction.atomic(), audit_context(actor=actor, action="staff_request.refuse"):
        locked = StaffRequest.objects.select_for_update().get(pk=staff_request.pk)
        _check_decider(locked, actor)
        locked.status, locked.decided_by, locked.decided_at = Status.REFUSED, actor, timezone.now()
        locked.refusal_reason = reason[:500]
        locked.save(update_fields=["status", "decided_by", "decided_at", "refusal_reason"])
        log_access(
            action=AccessLog.Action.STAFF_REFUSED,
            actor=actor,
            request=request,
            target=locked,
            target_label=_label(locked),
            detail=_detail(locked),
        )
    return locked


def _carry_out(
    staff_request: StaffRequest,
    actor: User,
    request: HttpRequest | None,
    now: datetime.datetime,
) -> str | None:
    """The change itself, inside the approval's transaction (`now` is the approval's time, a
    role's grant time); returns a one-time link's token when the staff member must now set
    their own password."""
    kind, role = staff_request.kind, staff_request.role
    user = None
    if staff_request.user_id:
        user = User.objects.select_for_update().get(pk=staff_request.user_id)
    if kind == Kind.CREATE_ACCOUNT:
        _check_new_account(staff_request.username, asked_by=staff_request)
        user = User(
            username=staff_request.username,
            first_name=staff_request.first_name,
            last_name=staff_request.last_name,
            email=staff_request.email,
        )
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as error:
            # Another approval made the same name (in any case) a moment ago.
            raise StaffRequestError(_("An account with this user name already exists.")) from error
        staff_request.user = user
        if role is not None:
            _grant(user, role, staff_request, now)
        return setup_link_issue(user=user, staff_request=staff_request)
    _check_subject(kind, user, role, staff_request.lock)
    if kind == Kind.GRANT_ROLE:
        _grant(user, role, staff_request, now)
    elif kind == Kind.REMOVE_ROLE:
        user.groups.remove(role)
        _update_admin_site_access(user)
    elif kind == Kind.DEACTIVATE:
        user.is_active = False
        user.save(update_fields=["is_active"])
        emergency.end_sessions_of([user.pk])
    elif kind == Kind.REACTIVATE:
        user.is_active = True
        user.save(update_fields=["is_active"])
        reset_login_failures(username=user.get_username())
    elif kind == Kind.LIFT_LOCK:
        emergency.lost_device_lock_lift(lock=staff_request.lock, actor=actor, request=request)
    else:
        if kind == Kind.RESET_SECOND_FACTOR:
            for device in devices_for_user(user, confirmed=None):
                device.delete()
        # The old password may be known to whoever holds the account: clear it.
        user.set_unusable_password()
        user.save(update_fields=["password"])
        emergency.end_sessions_of([user.pk])
    if kind in SETS_PASSWORD:
        return setup_link_issue(user=user, staff_request=staff_request)
    return None


def _grant(user: User, role: Group, staff_request: StaffRequest, now: datetime.datetime) -> None:
    user.groups.add(role)
    RoleGrant.objects.update_or_create(
        user=user, role=role, defaults={"granted_at": now, "request": staff_request}
    )
    _update_admin_site_access(user)


# --- reads --------------------------------------------------------------------------------------


def pending_requests() -> QuerySet[StaffRequest]:
    return StaffRequest.objects.filter(status=Status.PENDING).select_related(
        "user", "role", "requested_by", "lock"
    )


def decided_requests(limit: int = 30) -> QuerySet[StaffRequest]:
    return StaffRequest.objects.filter(~Q(status=Status.PENDING)).select_related(
        "user", "role", "requested_by", "decided_by"
    )[:limit]


def role_choices() -> QuerySet[Group]:
    return Group.objects.filter(name__in=Role.ALL).order_by("name")


def describe(staff_request: StaffRequest) -> str:
    """One line a person reads: what is asked, about whom."""
    name = staff_request.subject_name
    if staff_request.role_id:
        return _("%(kind)s: %(role)s for %(user)s") % {
            "kind": staff_request.get_kind_display(),
            "role": role_label(staff_request.role.name),
            "user": name,
        }
    return _("%(kind)s: %(user)s") % {"kind": staff_request.get_kind_display(), "user": name}


# --- the command line: start and recovery --------------------------------------------------------


def administrators_set_up(*, usernames: list[str], command_line_user: str) -> dict[str, str]:
    """A fresh installation's first two administrators, made on the server's command line;
    refused once any administrator exists. Nothing is protected yet, so their role counts at
    once (no cooling period), or nobody could approve anything for a day. Returns each user
    name's one-time link token."""
    if len(usernames) != 2 or usernames[0].lower() == usernames[1].lower():
        raise StaffRequestError("Give two different user names.")
    with transaction.atomic(), audit_context(actor=None, command_line_user=command_line_user):
        count = _serialised_administrator_count()
        if count:
            raise StaffRequestError(
                "This installation has administrators already: nothing was changed. To add one "
                "when only one is left, use add_administrator."
            )
        settled = timezone.now() - datetime.timedelta(hours=settings.HAVEN_ROLE_COOLING_HOURS)
        return {
            username: _make_administrator(
                username=username,
                command_line_user=command_line_user,
                granted_at=settled,
                detail={"fresh_installation": True},
            )
            for username in usernames
        }


def administrator_add_from_command_line(
    *, username: str, command_line_user: str, first_name: str = "", last_name: str = ""
) -> str:
    """Recovery: when fewer than two administrators are active, nobody can approve a request for
    another, so one is made on the server's command line (the shell account is the proof),
    logged in the access log. A new account, or an existing one given the role; its owner sets
    a new password through the one-time link returned (as a token; empty for an existing account,
    which keeps its own). The cooling period applies."""
    with transaction.atomic(), audit_context(actor=None, command_line_user=command_line_user):
        count = _serialised_administrator_count()
        if count >= 2:
            raise StaffRequestError(
                "There are two or more active administrators: they add others through "
                "requests in the browser. Nothing was changed."
            )
        return _make_administrator(
            username=username,
            command_line_user=command_line_user,
            first_name=first_name,
            last_name=last_name,
            granted_at=timezone.now(),
            detail={"fresh_installation": False, "administrators_before": count},
        )


def _serialised_administrator_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    return active_administrators().count()


def _make_administrator(
    *,
    username: str,
    command_line_user: str,
    granted_at: datetime.datetime,
    detail: dict,
    first_name: str = "",
    last_name: str = "",
) -> str:
    role = Group.objects.get(name=Role.ADMINISTRATOR)
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        user = User(
            username=_check_new_account(username), first_name=first_name, last_name=last_name
        )
        user.set_unusable_password()
        user.save()
        if detail.get("fresh_installation"):
            User.objects.filter(pk=user.pk).update(date_joined=granted_at)
    elif emergency.is_held_by_lock(user) or not user.is_active:
        raise StaffRequestError(
            "This account is switched off; lift its lock or re-activate it first."
        )
    user.groups.add(role)
    RoleGrant.objects.update_or_create(
        user=user, role=role, defaults={"granted_at": granted_at, "request": None}
    )
    _update_admin_site_access(user)
    log_access(
        action=AccessLog.Action.ADMINISTRATOR_ADDED,
        username=f"{command_line_user} (command line)",
        target=user,
        target_label=user.get_username(),
        detail=detail,
    )
    # An existing account keeps its password, which its owner alone knows.
    return "" if user.has_usable_password() else setup_link_issue(user=user)
