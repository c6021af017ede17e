"""Verification and decision: the checklist, the proposal, the four-eyes decision, and
withdrawing and re-opening a case."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.cooling import require_settled
from accounts.models import User
from accounts.roles import require_permission
from audit.services import audit_context
from cases.choices import OPEN_STATUSES, CheckItem, CheckResult, Status
from cases.models import Case, CaseNote, VerificationCheck
from cases.services.common import CaseError, _lock
from cases.services.team import on_team, tell_team_left
from notifications.services import notify


@transaction.atomic
def case_start_verification(*, case: Case, actor: User) -> Case:
    """Only the verifier a case manager assigned starts verification (nobody takes a case)."""
    require_permission(actor, "cases.verify_case")
    case = _lock(case)
    if case.status != Status.INTAKE:
        raise CaseError(_("Only a case in intake can go to verification."))
    if case.verifier_id != actor.pk:
        raise CaseError(_("A case manager must assign you as this case's verifier first."))
    case.status = Status.VERIFYING
    case.version += 1
    with audit_context(actor=actor, action="case.start_verification"):
        case.save(update_fields=["status", "version", "updated_at"])
    return case


def _require_team(case: Case, actor: User) -> None:
    """The checklist and the proposal are the team's work: a verifier elsewhere neither reads
    the notes (cases/rules.py) nor writes them."""
    if not on_team(case, actor):
        raise CaseError(_("Only the case's team may record its checks or propose its decision."))


@transaction.atomic
def verification_check_record(
    *, check: VerificationCheck, actor: User, result: str, notes: str = ""
) -> VerificationCheck:
    require_permission(actor, "cases.verify_case")
    case = _lock(check.case)
    _require_team(case, actor)
    if case.status != Status.VERIFYING:
        raise CaseError(_("Checks can be recorded only while the case is being verified."))
    if result not in CheckResult.values:
        raise CaseError(_("Choose a result for the check."))
    check = VerificationCheck.objects.select_for_update().get(pk=check.pk, case=case)
    check.result, check.notes = result, notes.strip() or None
    if result == CheckResult.PENDING:
        check.checked_by, check.checked_at = None, None
    else:
        check.checked_by, check.checked_at = actor, timezone.now()
    with audit_context(actor=actor, action="case.check"):
        check.save()
    return check


@transaction.atomic
def verification_checklist_record(
    *, case: Case, actor: User, entries: list[tuple[VerificationCheck, str, str]]
) -> list[VerificationCheck]:
    """The whole checklist in one save: every check whose result or notes changed is recorded
    (with who and when), the others keep who checked them. All or nothing: one refusal and no
    check is changed. Returns the checks that changed."""
    require_permission(actor, "cases.verify_case")
    case = _lock(case)
    _require_team(case, actor)  # before anything is compared, so a refusal is never "nothing"
    current = {
        check.pk: check for check in VerificationCheck.objects.select_for_update().filter(case=case)
    }
    changed = []
    for check, result, notes in entries:
        stored = current.get(check.pk)
        if stored is None:
            raise CaseError(_("That check does not belong to this case."))
        if stored.result == result and (stored.notes or "") == (notes or "").strip():
            continue
        changed.append(
            verification_check_record(check=stored, actor=actor, result=result, notes=notes)
        )
    return changed


def open_checks(case: Case) -> list[VerificationCheck]:
    """The checks of a case that have not passed, in the checklist's order."""
    return sorted(
        VerificationCheck.objects.filter(case=case).exclude(result=CheckResult.PASSED),
        key=lambda check: CheckItem.values.index(check.item),
    )


def open_checks_listed(checks: list[VerificationCheck]) -> str:
    """The open checks as a person reads them: "Interview held (Not done yet); …"."""
    return "; ".join(
        _("%(check)s (%(result)s)")
        % {"check": check.get_item_display(), "result": check.get_result_display()}
        for check in checks
    )


@transaction.atomic
def case_propose_decision(*, case: Case, actor: User, decision: str, reason: str) -> Case:
    require_permission(actor, "cases.verify_case")
    case = _lock(case)
    _require_team(case, actor)
    if case.status != Status.VERIFYING:
        raise CaseError(_("A decision can be proposed only while the case is being verified."))
    if decision not in (Status.VERIFIED, Status.REJECTED):
        raise CaseError(_("Propose either verified or rejected."))
    if not reason.strip():
        raise CaseError(_("Give a reason for the proposal."))
    if decision == Status.VERIFIED:
        unfinished = open_checks(case)
        if unfinished:
            raise CaseError(
                _(
                    "A case can be proposed as verified only once every check has passed. "
                    "Still open: %(checks)s."
                )
                % {"checks": open_checks_listed(unfinished)}
            )
    require_settled(actor, "cases.verify_case")
    case.proposed_decision, case.proposal_reason = decision, reason.strip()
    case.version += 1
    with audit_context(actor=actor, action="case.propose"):
        case.save(update_fields=["proposed_decision", "proposal_reason", "version", "updated_at"])
    return case


def case_verifier_ids(case: Case) -> set[int]:
    """Everyone who took part in verifying the case: none of them may decide it."""
    ids = set(
        VerificationCheck.objects.filter(case=case, checked_by__isnull=False).values_list(
            "checked_by", flat=True
        )
    )
    if case.verifier_id:
        ids.add(case.verifier_id)
    return ids


@transaction.atomic
def case_decide(*, case: Case, actor: User, decision: str, reason: str) -> Case:
    """Verify or reject a case: a case manager who neither took it in nor verified it."""
    require_permission(actor, "cases.decide_case")
    case = _lock(case)
    if case.status != Status.VERIFYING:
        raise CaseError(_("Only a case under verification can be decided."))
    if decision not in (Status.VERIFIED, Status.REJECTED):
        raise CaseError(_("Decide either verified or rejected."))
    if not reason.strip():
        raise CaseError(_("A decision needs a reason."))
    if actor.pk == case.intake_officer_id:
        raise CaseError(_("You took this case in: another case manager must decide it."))
    if actor.pk in case_verifier_ids(case):
        raise CaseError(
            _("You worked on the verification of this case: another case manager must decide it.")
        )
    require_settled(actor, "cases.decide_case")
    if decision == Status.VERIFIED:
        unfinished = open_checks(case)
        if unfinished:
            raise CaseError(
                _(
                    "Every check must have passed before a case can be verified. "
                    "Still open: %(checks)s."
                )
                % {"checks": open_checks_listed(unfinished)}
            )
    case.status, case.decided_by, case.decided_at = decision, actor, timezone.now()
    case.decision_reason = reason.strip()
    case.version += 1
    with audit_context(actor=actor, action="case.decide"):
        case.save()
    return case


@transaction.atomic
def case_withdraw(*, case: Case, actor: User, reason: str) -> Case:
    require_permission(actor, "cases.change_case")
    case = _lock(case)
    if case.status not in OPEN_STATUSES:
        raise CaseError(_("Only an open case can be withdrawn."))
    if case.status != Status.INTAKE and not actor.has_perm("cases.decide_case"):
        raise CaseError(_("Only a case manager can withdraw a case after intake."))
    if not reason.strip():
        raise CaseError(_("Give a reason for withdrawing the case."))
    case.status, case.status_reason = Status.WITHDRAWN, reason.strip()
    case.version += 1
    with audit_context(actor=actor, action="case.withdraw"):
        case.save()
    return case


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str) -> Case:
    require_permission(actor, "cases.decide_case")
    case = _lock(case)
    if case.status not in (Status.REJECTED, Status.WITHDRAWN):
        raise CaseError(_("Only a rejected or withdrawn case can be re-opened."))
    if not reason.strip():
        raise CaseError(_("Give a reason for re-opening the case."))
    case.status, case.status_reason = Status.INTAKE, reason.strip()
    case.decided_by, case.decided_at, case.decision_reason = None, None, ""
    previous_verifier = case.verifier
    case.proposed_decision, case.proposal_reason, case.verifier = "", "", None
    case.version += 1
    with audit_context(actor=actor, action="case.reopen"):
        case.save()
        VerificationCheck.objects.filter(case=case).update(
            result=CheckResult.PENDING, checked_by=None, checked_at=None
        )
    tell_team_left(case, actor, previous_verifier)
    return case


# What the checks vouch for: changing one of these after verification started undoes them.
# Phone, alias and the family's whereabouts change for good reasons (a new SIM, a move) and
# were never what a check confirmed.
CHECKED_FIELDS = ("real_name", "service_number", "national_id", "date_of_birth", "unit", "rank")


def verification_reset_for_identity_change(*, case: Case, actor: User, changed: list[str]) -> None:
    """The checks follow the person: once verification has started, a change to what the checks
    vouched for resets every check and any proposal, and a verified case goes back to
    verification (its decision was about someone else's details). A note on the case says why,
    and the verifier and the case manager are alerted. Called by case_update, in its
    transaction, with the case locked."""
    if case.status not in (Status.VERIFYING, Status.VERIFIED) or not changed:
        return
    was_verified = case.status == Status.VERIFIED
    VerificationCheck.objects.filter(case=case).update(
        result=CheckResult.PENDING, checked_by=None, checked_at=None
    )
    case.proposed_decision, case.proposal_reason = "", ""
    if was_verified:
        case.status = Status.VERIFYING
        case.decided_by, case.decided_at, case.decision_reason = None, None, ""
    labels = ", ".join(str(Case._meta.get_field(name).verbose_name) for name in changed)
    CaseNote.objects.create(
        case=case,
        author=actor,
        text=_(
            "Identity details changed after verification started (%(fields)s): every check "
            "and any proposal were reset, and the case must be verified again."
        )
        % {"fields": labels},
    )
    notify(
        kind="cases.checks_reset",
        recipients=[case.verifier, case.case_manager],
        event_key=f"checks-reset:{case.pk}:{case.version}",
        parameters={"case": case.code},
        link=f"/cases/{case.pk}/checks/",
    )
