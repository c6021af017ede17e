"""Records logins, failed logins, logouts and lockouts in the access log; opens a redaction
scope around every Celery task."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from celery.signals import task_postrun, task_prerun
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts import redaction
from accounts.audit import log_access
from accounts.models import AccessLog


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


# Celery tasks get the same protection against protected values in logs as requests do.
_task_scopes: dict[str, object] = {}


@task_prerun.connect(dispatch_uid="haven_task_redaction_scope_start")
def _start_task_redaction_scope(task_id: str, **kwargs: Any) -> None:
    scope = redaction.protected_values_scope()
    scope.__enter__()
    _task_scopes[task_id] = scope


@task_postrun.connect(dispatch_uid="haven_task_redaction_scope_end")
def _end_task_redaction_scope(task_id: str, **kwargs: Any) -> None:
    scope = _task_scopes.pop(task_id, None)
    if scope is not None:
        scope.__exit__(None, None, None)
