"""The reveal budget: how many records each member of staff may reveal in a day.

Someone harvesting identities reveals many records; someone working their cases, a few. Each
record (a case, a family member, a house...) counts once a day however many of its fields are
revealed. Past HAVEN_REVEAL_BUDGET_PER_DAY a reveal is refused and logged, the administrators
are alerted (through `reveal_budget_reached`, which notifications/security.py turns into an
alert), and only a second person with `accounts.raise_reveal_budget` can raise that person's
budget for the day.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Sum
from django.dispatch import Signal
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.cooling import require_settled
from accounts.models import RevealAllowance, User
from accounts.roles import require_permission
from audit.models import AccessLog
from audit.services import audit_context, log_access

# Sent once a refusal is logged: sender=User, user, day, budget (notifications alerts on it).
reveal_budget_reached = Signal()

MAX_RAISE = 500


class RevealBudgetExceeded(PermissionDenied):
    """A reveal past the day's budget."""


def _day_start(day: datetime.date) -> datetime.datetime:
    zone = timezone.get_current_timezone()
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


def revealed_today(user: User, day: datetime.date | None = None) -> int:
    """How many records `user` has revealed on `day` (today), each counted once."""
    day = day or timezone.localdate()
    start = _day_start(day)
    return (
        AccessLog.objects.filter(
            actor_id=user.pk,
            action=AccessLog.Action.REVEAL,
            at__gte=start,
            at__lt=start + datetime.timedelta(days=1),
        )
        .values("target_type", "target_id")
        .distinct()
        .count()
    )


def budget_for(user: User, day: datetime.date | None = None) -> int:
    """The day's budget: the setting, plus what second persons raised it by."""
    day = day or timezone.localdate()
    raised = RevealAllowance.objects.filter(user=user, day=day).aggregate(total=Sum("extra"))
    return settings.HAVEN_REVEAL_BUDGET_PER_DAY + (raised["total"] or 0)


def budget_passed(*, actor: User, obj: models.Model) -> int | None:
    """Inside the transaction of a reveal, before logging it: the day's budget if revealing
    `obj` now would pass it, else None. A record already revealed today costs nothing. One
    person's reveals take turns (a row lock), so two at once cannot both take the last place."""
    User.objects.select_for_update().filter(pk=actor.pk).first()
    day = timezone.localdate()
    seen = AccessLog.objects.filter(
        actor_id=actor.pk,
        action=AccessLog.Action.REVEAL,
        at__gte=_day_start(day),
        target_type=obj._meta.label_lower,
        target_id=str(obj.pk),
    ).exists()
    if seen:
        return None
    budget = budget_for(actor, day)
    return budget if revealed_today(actor, day) >= budget else None


def refuse_over_budget(
    *,
    actor: User,
    obj: models.Model,
    field_name: str,
    budget: int,
    request: HttpRequest | None = None,
) -> None:
    """Log the refusal, alert the administrators (once a day per person) and raise."""
    log_access(
        action=AccessLog.Action.DENIED,
        actor=actor,
        request=request,
        target=obj,
        field=field_name,
        detail={"action": "reveal", "budget": budget},
    )
    reveal_budget_reached.send(sender=User, user=actor, day=timezone.localdate(), budget=budget)
    raise RevealBudgetExceeded(
        _(
            "You have revealed %(budget)d records today, your budget for the day. An "
            "administrator has been told and can raise it; nothing was revealed."
        )
        % {"budget": budget}
    )


@transaction.atomic
def reveal_budget_raise(
    *, actor: User, user: User, extra: int, reason: str, request: HttpRequest | None = None
) -> RevealAllowance:
    """A second person raises someone's budget for today: never their own."""
    require_permission(actor, "accounts.raise_reveal_budget")
    # The second eye of a reveal: not from an account or role made in the last day.
    require_settled(actor, "accounts.raise_reveal_budget")
    if user.pk == actor.pk:
        raise PermissionDenied(_("Nobody raises their own budget: ask another administrator."))
    if not 1 <= extra <= MAX_RAISE:
        raise PermissionDenied(
            _("Raise the budget by between 1 and %(most)d records.") % {"most": MAX_RAISE}
        )
    if not reason.strip():
        raise PermissionDenied(_("Say why this person needs to reveal more today."))
    with audit_context(actor=actor, action="accounts.reveal_budget_raise"):
        allowance = RevealAllowance.objects.create(
            user=user,
            day=timezone.localdate(),
            extra=extra,
            reason=reason.strip(),
            granted_by=actor,
        )
    log_access(
        action=AccessLog.Action.BUDGET_RAISED,
        actor=actor,
        request=request,
        target=user,
        target_label=user.get_username(),
        detail={"extra": extra},
    )
    return allowance


def over_budget_today() -> list[dict]:
    """Staff refused a reveal for their budget today, with their budget and reveals so far."""
    day = timezone.localdate()
    refused = (
        AccessLog.objects.filter(
            action=AccessLog.Action.DENIED,
            at__gte=_day_start(day),
            detail__action="reveal",
            actor__isnull=False,
        )
        .values_list("actor_id", flat=True)
        .distinct()
    )
    rows = []
    for user in User.objects.filter(pk__in=list(refused)).order_by("username"):
        rows.append(
            {
                "user": user,
                "budget": budget_for(user, day),
                "revealed": revealed_today(user, day),
            }
        )
    return rows
