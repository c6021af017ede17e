"""Look-ups of cases by a protected value (a service or ID number): without the reveal
permission they are refused, every one is written to the access log, and each member of staff
may make only HAVEN_LOOKUP_LIMIT_PER_HOUR of them an hour, so that nobody can use the search to
learn, number by number, whether the people on an army list are in Haven."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from accounts.services import may_reveal
from audit.models import AccessLog
from audit.services import log_access
from cases.services.common import CaseError
from notifications.services import notify

LOOKUP_LIMIT_KIND = "cases.lookup_limit"


class LookupRefused(CaseError):
    """A look-up by a protected value that this person may not make now."""


def protected_lookup(*, actor: User, kind: str, request: HttpRequest | None = None) -> None:
    """Call before looking a case up by a protected value. Refuses (logged) without the reveal
    permission or past the hourly limit, alerting the administrators once an hour per person;
    otherwise logs the look-up. `kind` says where it was made, never what was looked up."""
    if not may_reveal(actor):
        log_access(
            action=AccessLog.Action.DENIED,
            actor=actor,
            request=request,
            detail={"permission": "accounts.reveal_identity", "action": f"lookup: {kind}"},
        )
        raise LookupRefused(
            _(
                "Searching by a service or ID number needs the permission to see identities. "
                "Search by case code instead."
            )
        )
    now = timezone.now()
    limit = settings.HAVEN_LOOKUP_LIMIT_PER_HOUR
    with transaction.atomic():
        # One person's look-ups take turns (a row lock), so parallel requests cannot all slip
        # under the limit between the count and the entry.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        made = AccessLog.objects.filter(
            actor_id=actor.pk,
            action=AccessLog.Action.LOOKUP,
            at__gte=now - datetime.timedelta(hours=1),
        ).count()
        if made < limit:
            log_access(
                action=AccessLog.Action.LOOKUP, actor=actor, request=request, detail={"kind": kind}
            )
            return
    # Over the limit: refused, logged (outside the turn's transaction) and alerted.
    log_access(
        action=AccessLog.Action.DENIED,
        actor=actor,
        request=request,
        detail={"action": f"lookup: {kind}", "limit": limit},
    )
    notify(
        kind=LOOKUP_LIMIT_KIND,
        recipients=[Role.ADMINISTRATOR],
        event_key=f"lookup-limit:{actor.pk}:{now:%Y-%m-%dT%H}",
        parameters={"count": limit},
        link="/accounts/audit/access/",
    )
    raise LookupRefused(
        _(
            "You have made %(limit)d searches by service or ID number in the last hour, the "
            "most allowed. Search by case code, or wait; the administrators have been told."
        )
        % {"limit": limit}
    )
