"""Records logins, failed logins, logouts and lockouts in the access log."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import AccessLog
from audit.services import log_access


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
