"""Writes of accounts: revealing a protected field (a logged, permission-checked read) and the
language a staff member reads Haven in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from accounts.models import User
from accounts.roles import require_permission
from audit.models import AccessLog
from audit.services import log_access

REVEAL_PERMISSION = "accounts.reveal_identity"


def protected_field_reveal(
    *,
    actor: User,
    obj: models.Model,
    field_name: str,
    request: HttpRequest | None = None,
    permission: str = REVEAL_PERMISSION,
) -> Any:
    """Return the plaintext of one protected field, after checking permission and logging it.

    The log names the record by its pseudonymous label (`str(obj)`, e.g. a case code) and the
    field, never the value.
    """
    require_permission(actor, permission)
    field = obj._meta.get_field(field_name)
    value = getattr(obj, field.attname)
    log_access(
        action=AccessLog.Action.REVEAL,
        actor=actor,
        request=request,
        target=obj,
        field=field_name,
    )
    return value


def may_reveal(user: User, permission: str = REVEAL_PERMISSION) -> bool:
    return bool(user and user.is_active and user.has_perm(permission))


def user_language_set(*, user: User, language: str) -> None:
    """Remember the language a staff member chose, so that each login starts in it."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Haven has no language {language!r}.")
    User.objects.filter(pk=user.pk).update(preferred_language=language)
