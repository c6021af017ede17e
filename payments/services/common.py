"""What every money service shares: the domain error, the permission guard that logs refusals,
and the month and amount helpers."""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import AccessLog
from audit.services import log_access
from payments.money import MoneyError, validate_amount


class PaymentError(Exception):
    """A money change refused for a reason a person can read and act on."""


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(period: datetime.date) -> datetime.date:
    return (period + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def parse_period(text: str) -> datetime.date:
    """'2026-11' → 2026-11-01, or PaymentError."""
    try:
        return datetime.datetime.strptime(text.strip(), "%Y-%m").date()
    except (ValueError, AttributeError) as error:
        raise PaymentError(_("Give the month as YYYY-MM, for example 2026-11.")) from error


def _refuse_and_log(actor: User | None, permission: str, what: str) -> None:
    """Permission failures on money are attempts worth an entry in the access log."""
    if actor is None or not actor.is_active or not actor.has_perm(permission):
        log_access(
            action=AccessLog.Action.DENIED,
            actor=actor if actor is not None and actor.pk else None,
            detail={"permission": permission, "action": what},
        )
        raise PermissionDenied(_("You do not have permission to do this."))


def guarded(permission: str, what: str):
    """Check the permission (logging a refusal, which must outlive the refused transaction)
    before running the service in a transaction of its own."""

    def decorate(function):
        in_transaction = transaction.atomic(function)

        @functools.wraps(function)
        def run(*args: Any, actor: User, **kwargs: Any):
            _refuse_and_log(actor, permission, what)
            return in_transaction(*args, actor=actor, **kwargs)

        return run

    return decorate


def _money(amount: Any, currency: str) -> Decimal:
    try:
        return validate_amount(amount, currency)
    except MoneyError as error:
        raise PaymentError(str(error)) from error
