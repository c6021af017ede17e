"""One way to write to the access log, and one way to name the actor in the change history."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import pghistory
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.http import HttpRequest

from audit.addresses import client_address
from audit.models import AccessLog


def log_access(
    *,
    action: str,
    actor: AbstractBaseUser | None = None,
    username: str = "",
    request: HttpRequest | None = None,
    target: models.Model | None = None,
    target_label: str = "",
    field: str = "",
    detail: dict[str, Any] | None = None,
) -> AccessLog:
    """Append an entry to the access log. Never pass a protected value in `detail`."""
    if actor is not None and not username:
        username = actor.get_username()
    return AccessLog.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        username=username[:150],
        ip_address=client_address(request),
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=target_label or (str(target) if target is not None else ""),
        field=field,
        detail=detail or {},
    )


def audit_context(*, actor: AbstractBaseUser | None, **extra: Any) -> AbstractContextManager:
    """Name who made the changes inside the block in the history (for tasks and commands;
    requests get it from pghistory's middleware)."""
    return pghistory.context(user=actor.pk if actor is not None else None, **extra)
