"""The cooling period: a role granted, or an account made, less than HAVEN_ROLE_COOLING_HOURS
ago cannot be either eye of a four-eyes step (a batch, a one-off payment, an erasure, a case
decision, a request about staff). A person who slipped a second account or role past the
requests still has to wait a day, in sight of the other administrators, before it counts."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import RoleGrant, User


class CoolingPeriod(PermissionDenied):
    """Refused because the account or the role behind the step is too new; the message says
    so and when it will count."""


def cooling_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(hours=settings.HAVEN_ROLE_COOLING_HOURS)


def settled_at(user: User, permission: str) -> datetime.datetime | None:
    """From when `user` may use `permission` for a four-eyes step: the account's creation, or the
    oldest grant of a role that carries the permission, whichever is later; None when no role
    of theirs carries it (a superuser's or a direct permission counts from the account)."""
    app_label, _dot, codename = permission.partition(".")
    role_ids = set(
        Group.objects.filter(
            user=user,
            permissions__content_type__app_label=app_label,
            permissions__codename=codename,
        ).values_list("pk", flat=True)
    )
    if not role_ids:
        return user.date_joined
    grants = dict(
        RoleGrant.objects.filter(user=user, role_id__in=role_ids).values_list(
            "role_id", "granted_at"
        )
    )
    # A role without a recorded grant counts from the account's creation.
    oldest = min(grants.get(role_id, user.date_joined) for role_id in role_ids)
    return max(oldest, user.date_joined)


def require_settled(user: User, permission: str) -> None:
    """Refuse (CoolingPeriod) when `user`'s account, or every role of theirs that carries
    `permission`, is younger than the cooling period. Call it for each eye of a four-eyes step."""
    since = settled_at(user, permission)
    if since is None or since <= cooling_cutoff():
        return
    hours = settings.HAVEN_ROLE_COOLING_HOURS
    counts_from = timezone.localtime(since + datetime.timedelta(hours=hours))
    raise CoolingPeriod(
        ngettext(
            "Your account or role is less than %(hours)d hour old: it cannot take part in a "
            "four-eyes step before %(when)s.",
            "Your account or role is less than %(hours)d hours old: it cannot take part in a "
            "four-eyes step before %(when)s.",
            hours,
        )
        % {"hours": hours, "when": date_format(counts_from, "DATETIME_FORMAT")}
    )


def describe_cooling(user: User) -> str:
    """For refusals that name someone else (the other eye)."""
    return _("%(user)s is still in the cooling period of a new account or role.") % {
        "user": user.get_username()
    }
