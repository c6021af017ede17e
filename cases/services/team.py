"""A case's team: its verifier and case manager, named by a case manager, and the other staff a
case manager adds or removes. Nobody puts themselves on a team; each change is in the history
and the access log, and alerts the case's case manager (every case manager while it has none)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role, require_permission
from audit.models import AccessLog
from audit.services import audit_context, log_access
from cases.choices import Status
from cases.models import Case, CaseTeamMember
from cases.services.common import CaseError, _lock
from cases.signals import case_team_left
from notifications.services import notify


def _not_oneself(
    actor: User, user: User | None, case: Case, change: str, request: HttpRequest | None
) -> None:
    """Refuse, and log, someone putting themselves on a team. Called before the change's
    transaction, so that the refusal stays in the access log."""
    if user is None or user.pk != actor.pk:
        return
    log_access(
        action=AccessLog.Action.DENIED,
        actor=actor,
        request=request,
        target=case,
        detail={"action": f"team: {change}", "reason": "oneself"},
    )
    raise CaseError(_("Nobody puts themselves on a case: another case manager must assign you."))


def _tell(case: Case, *, kind: str, event_key: str, also: tuple[User | None, ...] = ()) -> None:
    """Alert the case's case manager (every case manager when it has none) and `also`."""
    recipients: list = [user for user in (case.case_manager, *also) if user is not None]
    if case.case_manager_id is None:
        recipients.append(Role.CASE_MANAGER)
    notify(
        kind=kind,
        recipients=recipients,
        event_key=event_key,
        parameters={"case": case.code},
        link=f"/cases/{case.pk}/team/",
    )


def _log(
    case: Case, actor: User, request: HttpRequest | None, change: str, user: User | None
) -> None:
    log_access(
        action=AccessLog.Action.TEAM_CHANGED,
        actor=actor,
        request=request,
        target=case,
        detail={"change": change, "staff": user.get_username() if user else ""},
    )


def on_team(case: Case, user: User) -> bool:
    """On the team itself (a break-the-glass is not membership)."""
    if user.pk in (case.intake_officer_id, case.verifier_id, case.case_manager_id):
        return True
    return CaseTeamMember.objects.filter(case=case, user=user).exists()


def tell_team_left(case: Case, actor: User, user: User | None) -> None:
    """Tell the apps standing on cases that `user` is off the case's team, if they are."""
    if user is not None and not on_team(case, user):
        case_team_left.send(sender=Case, case=case, actor=actor, user=user)


def case_assign_verifier(
    *, case: Case, actor: User, verifier: User, request: HttpRequest | None = None
) -> Case:
    """A case manager names the verifier of a case in intake: nobody puts themselves on a case,
    and whoever took the case in does not verify it."""
    require_permission(actor, "cases.decide_case")
    _not_oneself(actor, verifier, case, "verifier", request)
    with transaction.atomic():
        return _assign_verifier(case, actor, verifier, request)


def _assign_verifier(case: Case, actor: User, verifier: User, request) -> Case:
    case = _lock(case)
    if case.status != Status.INTAKE:
        raise CaseError(_("A verifier can be assigned only while the case is in intake."))
    if not (verifier.is_active and verifier.has_perm("cases.verify_case")):
        raise CaseError(_("The assigned verifier must have the verifier role."))
    if verifier.pk == case.intake_officer_id:
        raise CaseError(_("Whoever took the case in cannot verify it."))
    previous = case.verifier
    if previous is not None and previous.pk == verifier.pk:
        return case
    case.verifier = verifier
    case.version += 1
    with audit_context(actor=actor, action="case.assign_verifier"):
        case.save(update_fields=["verifier", "version", "updated_at"])
    _log(case, actor, request, "verifier", verifier)
    tell_team_left(case, actor, previous)
    notify(
        kind="cases.verifier_assigned",
        recipients=[verifier, *([previous] if previous else [])],
        event_key=f"verifier:{case.pk}:{case.version}",
        parameters={"case": case.code},
        link=f"/cases/{case.pk}/verify/",
    )
    _tell(case, kind="cases.team_changed", event_key=f"team:{case.pk}:{case.version}")
    return case


def case_assign_case_manager(
    *, case: Case, actor: User, case_manager: User | None, request: HttpRequest | None = None
) -> Case:
    """A case manager names another case manager for a case (or none): never themselves."""
    require_permission(actor, "cases.decide_case")
    _not_oneself(actor, case_manager, case, "case manager", request)
    with transaction.atomic():
        return _assign_case_manager(case, actor, case_manager, request)


def _assign_case_manager(case: Case, actor: User, case_manager: User | None, request) -> Case:
    case = _lock(case)
    if case_manager is not None and not (
        case_manager.is_active and case_manager.has_perm("cases.decide_case")
    ):
        raise CaseError(_("The assigned case manager must have the case manager role."))
    previous = case.case_manager
    if (previous.pk if previous else None) == (case_manager.pk if case_manager else None):
        return case
    case.case_manager = case_manager
    case.version += 1
    with audit_context(actor=actor, action="case.assign_case_manager"):
        case.save(update_fields=["case_manager", "version", "updated_at"])
    _log(case, actor, request, "case_manager", case_manager)
    tell_team_left(case, actor, previous)
    # The new case manager and the one replaced; every case manager when there is neither.
    _tell(
        case,
        kind="cases.case_manager_changed",
        event_key=f"case-manager:{case.pk}:{case.version}",
        also=(previous,),
    )
    return case


def case_team_add(
    *, case: Case, actor: User, user: User, request: HttpRequest | None = None
) -> CaseTeamMember:
    """A case manager adds a member of staff who works cases to a case's team."""
    require_permission(actor, "cases.decide_case")
    _not_oneself(actor, user, case, "add", request)
    with transaction.atomic():
        return _team_add(case, actor, user, request)


def _team_add(case: Case, actor: User, user: User, request) -> CaseTeamMember:
    case = _lock(case)
    if not (user.is_active and user.has_perm("cases.view_case")):
        raise CaseError(_("Only active staff who work cases can join a case's team."))
    if on_team(case, user):
        raise CaseError(_("%(user)s is already on this case's team.") % {"user": user})
    try:
        with transaction.atomic(), audit_context(actor=actor, action="case.team_add"):
            member = CaseTeamMember.objects.create(case=case, user=user, added_by=actor)
    except IntegrityError as error:
        raise CaseError(_("%(user)s is already on this case's team.") % {"user": user}) from error
    _log(case, actor, request, "added", user)
    _tell(case, kind="cases.team_changed", event_key=f"team:{case.pk}:add:{member.pk}")
    return member


@transaction.atomic
def case_team_remove(
    *, case: Case, actor: User, member: CaseTeamMember, request: HttpRequest | None = None
) -> None:
    """A case manager takes a member added to a case's team off it."""
    require_permission(actor, "cases.decide_case")
    case = _lock(case)
    member = CaseTeamMember.objects.select_related("user").filter(pk=member.pk, case=case).first()
    if member is None:
        raise CaseError(_("This person is no longer on the case's team."))
    removed = member.user
    member_pk = member.pk
    with audit_context(actor=actor, action="case.team_remove"):
        member.delete()
    _log(case, actor, request, "removed", removed)
    tell_team_left(case, actor, removed)
    _tell(case, kind="cases.team_changed", event_key=f"team:{case.pk}:remove:{member_pk}")
