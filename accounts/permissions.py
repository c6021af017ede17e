"""Permission checks of views, in one place: refuse with 403 and write the refusal to the access
log (someone trying what they may not is worth knowing about), and the readable reason of a
change that a service refused."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from audit.models import AccessLog
from audit.services import log_access


def refuse(request: HttpRequest, permissions: tuple[str, ...], action: str) -> None:
    """Log the refusal and raise 403."""
    log_access(
        action=AccessLog.Action.DENIED,
        actor=request.user,
        request=request,
        detail={"permission": " | ".join(permissions), "action": action},
    )
    raise PermissionDenied


def require_permission_logged(
    actor: Any, permission: str, action: str, request: HttpRequest | None = None
) -> None:
    """For services: refuse, and log, an actor who is not an active holder of `permission`."""
    if actor is None or not actor.is_active or not actor.has_perm(permission):
        log_access(
            action=AccessLog.Action.DENIED,
            actor=actor if actor is not None and actor.pk else None,
            request=request,
            detail={"permission": permission, "action": action},
        )
        raise PermissionDenied(_("You do not have permission to do this."))


def permission_required_logged(
    *permissions: str, action: str | None = None, log_reads: bool = True
) -> Callable:
    """Let through users with at least one of the permissions; refuse the others with 403 and
    log it (only attempted changes, POSTs, when `log_reads` is False). `action` names the
    attempt in the log; the view's name by default."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(request.user.has_perm(permission) for permission in permissions):
                if log_reads or request.method == "POST":
                    refuse(request, permissions, action or view.__name__)
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def refusal_message(error: Exception) -> str:
    """The readable reason of a change a service refused."""
    if isinstance(error, PermissionDenied):
        return str(error) or _("You do not have permission to do this.")
    return str(error)
