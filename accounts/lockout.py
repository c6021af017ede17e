"""The lockout that cannot be turned against staff. django-axes counts failures by user name
*and* address (AXES_LOCKOUT_PARAMETERS), so a stranger who types a colleague's user name locks
out only their own address. What caps guesses spread over many addresses is this module: past
HAVEN_ACCOUNT_FAILURE_CAP failures of one account within an hour, from every address together,
its password is not even checked until the hour has passed; and behind the password, the
second factor's codes are capped per device by django-otp's throttle, whatever the address.
An account that fails from HAVEN_LOGIN_ALERT_ADDRESSES addresses in an hour alerts the
administrators (notifications/security.py)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from audit.models import AccessLog

WINDOW = datetime.timedelta(hours=1)


def _recent_failures(username: str):
    return AccessLog.objects.filter(
        action=AccessLog.Action.LOGIN_FAILED,
        username__iexact=username,
        at__gte=timezone.now() - WINDOW,
    )


def account_capped(username: str) -> bool:
    """Whether this account has failed too often in the last hour, from all addresses."""
    if not username:
        return False
    return _recent_failures(username).count() >= settings.HAVEN_ACCOUNT_FAILURE_CAP


def failing_addresses(username: str) -> int:
    """How many different addresses this account failed to log in from in the last hour."""
    return (
        _recent_failures(username)
        .exclude(ip_address__isnull=True)
        .values("ip_address")
        .distinct()
        .count()
    )
