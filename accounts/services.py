"""Writes of accounts: revealing a protected field (a logged, permission-checked read), the
language a staff member reads Haven in, and the wait django-otp imposes after wrong codes."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import budgets
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
    """Return the plaintext of one protected field, after checking and logging it (see
    `record_reveal`)."""
    record_reveal(
        actor=actor, obj=obj, field_name=field_name, request=request, permission=permission
    )
    return getattr(obj, obj._meta.get_field(field_name).attname)


def record_reveal(
    *,
    actor: User,
    obj: models.Model,
    field_name: str,
    request: HttpRequest | None = None,
    permission: str = REVEAL_PERMISSION,
    detail: dict | None = None,
) -> None:
    """Check that `actor` may reveal `field_name` of `obj` now, and log it; raise
    PermissionDenied (logged) if not.

    The log names the record by its pseudonymous label (`str(obj)`, e.g. a case code) and the
    field, never the value. A model may name an object rule in `REVEAL_RULE` (need-to-know:
    cases.rules) and the refusal people read in `REVEAL_REFUSAL`; the reveal budget
    (accounts/budgets.py) applies to every record.
    """
    reveal_check(
        actor=actor, obj=obj, field_name=field_name, request=request, permission=permission
    )
    reveal_within_budget(
        actor=actor, obj=obj, field_name=field_name, request=request, detail=detail
    )


def reveal_check(
    *,
    actor: User,
    obj: models.Model,
    field_name: str,
    request: HttpRequest | None = None,
    permission: str = REVEAL_PERMISSION,
) -> None:
    """May `actor` reveal `field_name` of `obj`? PermissionDenied if not, the refusal logged
    (the model's REVEAL_RULE and REVEAL_REFUSAL). Nothing is revealed or counted: for a check
    made ahead of the reveal, as an export's before it is built and at each download."""
    require_permission(actor, permission)
    rule = getattr(obj, "REVEAL_RULE", None)
    if rule and not actor.has_perm(rule, obj):
        log_access(
            action=AccessLog.Action.DENIED,
            actor=actor,
            request=request,
            target=obj,
            field=field_name,
            detail={"permission": rule, "action": "reveal"},
        )
        raise PermissionDenied(
            getattr(obj, "REVEAL_REFUSAL", None) or _("You may not see who this record is.")
        )


def reveal_within_budget(
    *,
    actor: User,
    obj: models.Model,
    field_name: str,
    request: HttpRequest | None = None,
    detail: dict | None = None,
) -> None:
    """Log a reveal of `obj` whose permission the caller has checked, within the reader's
    reveal budget (accounts/budgets.py): past it, nothing is logged as revealed, the refusal
    is logged, the administrators are alerted and RevealBudgetExceeded (a PermissionDenied)
    says so. A file that holds names counts here at each download (operations/exports.py)."""
    with transaction.atomic():
        budget = budgets.budget_passed(actor=actor, obj=obj)
        if budget is None:
            log_access(
                action=AccessLog.Action.REVEAL,
                actor=actor,
                request=request,
                target=obj,
                field=field_name,
                detail=detail,
            )
    if budget is not None:
        budgets.refuse_over_budget(
            actor=actor, obj=obj, field_name=field_name, budget=budget, request=request
        )


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
