"""Break-the-glass: someone with the reveal permission, outside a case's team, opens the case for
HAVEN_BREAK_GLASS_MINUTES after choosing a reason and writing why. The case manager (every case
manager while it has none) and the administrators are alerted at once; each use is then reviewed
and closed by another person — the case's case manager or an administrator."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.cooling import require_settled
from accounts.models import User
from accounts.roles import Role, require_permission
from accounts.services import REVEAL_PERMISSION
from audit.models import AccessLog
from audit.services import audit_context, log_access
from cases.models import BreakGlass, BreakGlassOutcome, BreakGlassReason, Case
from cases.services.common import CaseError, _lock
from cases.services.team import on_team
from notifications.services import notify

WHY_MAX_LENGTH = 1000


def open_glass(case: Case, user: User) -> BreakGlass | None:
    """This person's break-the-glass of the case whose window is still open, if any."""
    return (
        BreakGlass.objects.filter(case=case, user=user, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )


def break_glass_open(
    *, case: Case, actor: User, reason: str, why: str, request: HttpRequest | None = None
) -> BreakGlass:
    require_permission(actor, REVEAL_PERMISSION)
    why = (why or "").strip()
    problem = ""
    if reason not in BreakGlassReason.values:
        problem = _("Choose why you need to open this case.")
    elif not why:
        problem = _("Write why you need to open this case now: the reviewer reads it.")
    elif len(why) > WHY_MAX_LENGTH:
        problem = _("Write at most %(count)d characters.") % {"count": WHY_MAX_LENGTH}
    if problem:
        # Logged before any transaction: an attempt without a reason is worth knowing about.
        log_access(
            action=AccessLog.Action.DENIED,
            actor=actor,
            request=request,
            target=case,
            detail={"action": "break the glass", "reason": "no reason given"},
        )
        raise CaseError(problem)
    with transaction.atomic():
        return _open(case, actor, reason, why, request)


def _open(case: Case, actor: User, reason: str, why: str, request) -> BreakGlass:
    case = _lock(case)
    if on_team(case, actor):
        raise CaseError(_("You are on this case's team: you need not break the glass."))
    current = open_glass(case, actor)
    if current is not None:
        raise CaseError(
            _("You have this case open until %(time)s already.")
            % {"time": timezone.localtime(current.expires_at).strftime("%H:%M")}
        )
    now = timezone.now()
    with audit_context(actor=actor, action="case.break_glass"):
        use = BreakGlass.objects.create(
            case=case,
            user=actor,
            reason=reason,
            why=why,
            opened_at=now,
            expires_at=now + datetime.timedelta(minutes=settings.HAVEN_BREAK_GLASS_MINUTES),
        )
    log_access(
        action=AccessLog.Action.BREAK_GLASS,
        actor=actor,
        request=request,
        target=case,
        detail={"reason": reason, "minutes": settings.HAVEN_BREAK_GLASS_MINUTES},
    )
    recipients: list = [Role.ADMINISTRATOR]
    recipients.append(case.case_manager if case.case_manager_id else Role.CASE_MANAGER)
    notify(
        kind="cases.break_glass",
        recipients=recipients,
        event_key=f"break-glass:{use.pk}",
        parameters={"case": case.code, "minutes": settings.HAVEN_BREAK_GLASS_MINUTES},
        link="/cases/break-glass/",
    )
    return use


def may_review(user: User, use: BreakGlass) -> bool:
    """The case's case manager, or an administrator; never the person who opened the case."""
    if not user.is_active or user.pk == use.user_id:
        return False
    if not user.has_perm("cases.review_break_glass"):
        return False
    if user.groups.filter(name=Role.ADMINISTRATOR).exists():
        return True
    return use.case.case_manager_id in (None, user.pk)


@transaction.atomic
def break_glass_review(
    *,
    use: BreakGlass,
    actor: User,
    outcome: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> BreakGlass:
    """Close a use with its outcome. One judged unjustified while still open ends at once."""
    if use.user_id == actor.pk:
        raise CaseError(_("Someone else must review your own break-the-glass."))
    require_permission(actor, "cases.review_break_glass")
    require_settled(actor, "cases.review_break_glass")
    use = BreakGlass.objects.select_for_update(of=("self",)).select_related("case").get(pk=use.pk)
    if use.reviewed_at is not None:
        raise CaseError(_("This use has been reviewed already."))
    if not may_review(actor, use):
        raise CaseError(_("Only the case's case manager or an administrator reviews this use."))
    if outcome not in BreakGlassOutcome.values:
        raise CaseError(_("Say whether opening the case was justified."))
    note = (note or "").strip()
    if outcome == BreakGlassOutcome.NOT_JUSTIFIED and not note:
        raise CaseError(_("Say why it was not justified: the administrators read it."))
    now = timezone.now()
    use.reviewed_by, use.reviewed_at, use.outcome = actor, now, outcome
    use.review_note = note[:500] or None
    fields = ["reviewed_by", "reviewed_at", "outcome", "review_note"]
    if outcome == BreakGlassOutcome.NOT_JUSTIFIED and use.expires_at > now:
        use.expires_at = max(now, use.opened_at + datetime.timedelta(microseconds=1))
        fields.append("expires_at")
    with audit_context(actor=actor, action="case.break_glass_review"):
        use.save(update_fields=fields)
    log_access(
        action=AccessLog.Action.GLASS_REVIEWED,
        actor=actor,
        request=request,
        target=use.case,
        detail={"outcome": outcome, "opened_by": use.user.get_username()},
    )
    if outcome == BreakGlassOutcome.NOT_JUSTIFIED:
        notify(
            kind="cases.break_glass_unjustified",
            recipients=[Role.ADMINISTRATOR],
            event_key=f"break-glass-unjustified:{use.pk}",
            parameters={"case": use.case.code},
            link="/cases/break-glass/",
        )
    return use
