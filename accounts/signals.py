"""Records logins, failed logins, logouts and lockouts in the access log, and when each role was
given to whom (accounts/cooling.py); and the signals accounts sends when a staff member's
credentials are set (notifications/security.py alerts the administrators)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import Signal, receiver
from django.utils import timezone

from accounts.models import RoleGrant, User
from audit.models import AccessLog
from audit.services import log_access

# Sent, with `user`, once a password was set with a one-time link (accounts/setup_links.py) and
# once an authenticator app was set up (accounts/views/login.py): whoever holds the link or
# stands at the enrolment now holds the account, so the administrators hear of each.
password_set_by_link = Signal()
second_factor_enrolled = Signal()


@receiver(user_logged_in, dispatch_uid="haven_log_login")
def _log_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log_access(action=AccessLog.Action.LOGIN, actor=user, request=request)


@receiver(user_logged_out, dispatch_uid="haven_log_logout")
def _log_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        log_access(action=AccessLog.Action.LOGOUT, actor=user, request=request)


@receiver(user_login_failed, dispatch_uid="haven_log_login_failed")
def _log_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    # Only the user name is kept: `credentials` has the password scrubbed, but nothing else of
    # it belongs in the log.
    log_access(
        action=AccessLog.Action.LOGIN_FAILED,
        username=str(credentials.get("username", "")),
        request=request,
    )


@receiver(user_locked_out, dispatch_uid="haven_log_lockout")
def _log_lockout(sender: Any, request: Any, username: str, ip_address: str, **kwargs: Any) -> None:
    log_access(action=AccessLog.Action.LOCKED_OUT, username=username or "", request=request)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="haven_role_grants")
def _record_role_grants(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set | None, **kwargs: Any
) -> None:
    """However a role is added (a request's approval, a command, a shell), its grant time is
    recorded, so that the cooling period holds; a role removed forgets its grant."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # group.user_set.add(...): `instance` is the role, `pk_set` the users
        pairs = [(user_id, instance.pk) for user_id in pk_set or ()]
        cleared = RoleGrant.objects.filter(role=instance)
    else:
        pairs = [(instance.pk, role_id) for role_id in pk_set or ()]
        cleared = RoleGrant.objects.filter(user=instance)
    if action == "post_add":
        now = timezone.now()
        RoleGrant.objects.bulk_create(
            [
                RoleGrant(user_id=user_id, role_id=role_id, granted_at=now)
                for user_id, role_id in pairs
            ],
            ignore_conflicts=True,
        )
    elif action == "post_remove":
        for user_id, role_id in pairs:
            RoleGrant.objects.filter(user_id=user_id, role_id=role_id).delete()
    else:
        cleared.delete()
