"""Writes of accounts: revealing a protected field (a logged, permission-checked read), the
language a staff member reads Haven in, and the wait django-otp imposes after wrong codes."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import ngettext

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


# --- the second factor's throttle -------------------------------------------------------


def second_factor_wait(devices) -> int:
    """Seconds to wait when django-otp throttles every device after wrong codes (0: none). A
    code typed meanwhile is not checked and counts for nothing: the throttle would refuse even
    the right one, and counting that as a failure would lock out the person for being right."""
    waits = []
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if allowed:
            return 0
        until = (data or {}).get("locked_until")
        waits.append(until)
    if not waits or any(until is None for until in waits):
        return 0
    return max(1, math.ceil((min(waits) - timezone.now()).total_seconds()))


def second_factor_wait_message(seconds: int) -> str:
    return ngettext(
        "Too many wrong codes: wait %(seconds)d second, then type the code your app shows.",
        "Too many wrong codes: wait %(seconds)d seconds, then type the code your app shows.",
        seconds,
    ) % {"seconds": seconds}
