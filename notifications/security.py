"""Alerts to administrators about staff and sign-ins: a request about staff waiting for a second
administrator (accounts/staff_requests.py), a superuser's login (superusers exist only as a
break-glass, made with `createsuperuser`), one account failing to log in from many addresses
(accounts/lockout.py), a reveal refused for the day's budget (accounts/budgets.py), and a
password set with a one-time link or an authenticator app set up (accounts/signals.py). accounts
may not import notifications, so these are receivers of its signals and of Django's login
signals."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.budgets import reveal_budget_reached
from accounts.lockout import failing_addresses
from accounts.roles import Role
from accounts.signals import password_set_by_link, second_factor_enrolled
from accounts.staff_requests import active_administrators, staff_request_made
from notifications import kinds
from notifications.services import notify

STAFF_REQUEST = kinds.register(
    kinds.AlertKind(
        code="accounts.staff_request",
        label=_("Request about staff"),
        severity="info",
        message=_(
            "An administrator asks for a change to a staff account or role: another "
            "administrator must approve or refuse it."
        ),
    )
)
SUPERUSER_LOGIN = kinds.register(
    kinds.AlertKind(
        code="accounts.superuser_login",
        label=_("Superuser logged in"),
        severity="urgent",
        message=_(
            "A superuser account has just logged in. Superusers are only for a break-glass "
            "emergency: the access log says who and from where."
        ),
    )
)
FAILURES_SPREAD = kinds.register(
    kinds.AlertKind(
        code="accounts.login_failures_spread",
        label=_("Failed logins from many addresses"),
        severity="warning",
        message=_(
            "One account failed to log in from %(count)s different addresses in the last hour: "
            "someone may be guessing its password. The access log says which account."
        ),
        parameters=("count",),
    )
)

REVEAL_BUDGET = kinds.register(
    kinds.AlertKind(
        code="accounts.reveal_budget",
        label=_("Reveal budget reached"),
        severity="warning",
        message=_(
            "A member of staff reached their budget of %(count)s reveals for the day and was "
            "refused. The reveal budgets page says who; only another person can raise it."
        ),
        parameters=("count",),
    )
)


PASSWORD_SET = kinds.register(
    kinds.AlertKind(
        code="accounts.password_set",
        label=_("Password set with a one-time link"),
        severity="warning",
        message=_(
            "A staff member's password was set with a one-time link: the access log says whose. "
            "If it was not them, lock the account at once on the Emergency page."
        ),
    )
)
SECOND_FACTOR_ENROLLED = kinds.register(
    kinds.AlertKind(
        code="accounts.second_factor_enrolled",
        label=_("Authenticator app set up"),
        severity="warning",
        message=_(
            "A staff member set up an authenticator app: the access log says who. If it was not "
            "them, lock the account at once on the Emergency page."
        ),
    )
)


def _alert_credentials(kind: str, user: Any) -> None:
    """The administrators hear whenever an account's credentials are set: whoever held the
    link, or stood at the enrolment, now holds the account (by name only in the access log)."""
    notify(
        kind=kind,
        recipients=[Role.ADMINISTRATOR],
        event_key=f"{kind}:{user.pk}:{timezone.now().isoformat()}",
        link="/accounts/audit/access/",
    )


@receiver(password_set_by_link, dispatch_uid="haven_alert_password_set")
def _alert_password_set(sender: Any, user: Any, **kwargs: Any) -> None:
    _alert_credentials(PASSWORD_SET.code, user)


@receiver(second_factor_enrolled, dispatch_uid="haven_alert_second_factor_enrolled")
def _alert_second_factor_enrolled(sender: Any, user: Any, **kwargs: Any) -> None:
    _alert_credentials(SECOND_FACTOR_ENROLLED.code, user)


@receiver(staff_request_made, dispatch_uid="haven_alert_staff_request")
def _alert_staff_request(sender: Any, staff_request: Any, **kwargs: Any) -> None:
    notify(
        kind=STAFF_REQUEST.code,
        recipients=active_administrators().exclude(pk=staff_request.requested_by_id),
        event_key=f"staff-request:{staff_request.pk}",
        link=f"/accounts/staff/requests/{staff_request.pk}/",
    )


@receiver(user_logged_in, dispatch_uid="haven_alert_superuser_login")
def _alert_superuser_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if not getattr(user, "is_superuser", False):
        return
    notify(
        kind=SUPERUSER_LOGIN.code,
        recipients=[Role.ADMINISTRATOR],
        event_key=f"superuser-login:{user.pk}:{timezone.now().isoformat()}",
        link="/accounts/audit/access/",
    )


@receiver(user_login_failed, dispatch_uid="haven_alert_failures_spread")
def _alert_failures_spread(
    sender: Any, credentials: dict, request: Any = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username") or "")[:150]
    if not username:
        return
    addresses = failing_addresses(username)
    if addresses < settings.HAVEN_LOGIN_ALERT_ADDRESSES:
        return
    # Once an hour per account at most (the event key names the hour).
    notify(
        kind=FAILURES_SPREAD.code,
        recipients=[Role.ADMINISTRATOR],
        event_key=f"login-spread:{username.lower()}:{timezone.now():%Y-%m-%dT%H}",
        parameters={"count": addresses},
        link="/accounts/audit/access/",
    )


@receiver(reveal_budget_reached, dispatch_uid="haven_alert_reveal_budget")
def _alert_reveal_budget(sender: Any, user: Any, day: Any, budget: int, **kwargs: Any) -> None:
    # Once a day per person (the event key names the day).
    notify(
        kind=REVEAL_BUDGET.code,
        recipients=[Role.ADMINISTRATOR],
        event_key=f"reveal-budget:{user.pk}:{day:%Y-%m-%d}",
        parameters={"count": budget},
        link="/accounts/reveal-budgets/",
    )
