"""Every change to a case, in one place: each function locks what it changes, checks permission
and state, saves, and names the actor in the history, in one transaction."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import require_permission
from audit.models import AccessLog
from audit.services import audit_context, log_access
from cases.choices import (
    ITEM_CATEGORY_OF_TYPE,
    OPEN_STATUSES,
    CheckItem,
    CheckResult,
    JourneyEventKind,
    JourneyStage,
    ReferralStatus,
    Status,
)
from cases.models import (
    Case,
    CaseCodeCounter,
    CaseNote,
    DuplicateDismissal,
    Evidence,
    FamilyMember,
    ItemBrought,
    JourneyEvent,
    Referral,
    VerificationCheck,
)
from protection.blind_indexes import blind_index_filter
from protection.keys import decrypt_bytes, encrypt_bytes


class CaseError(Exception):
    """A change refused for a reason a person can read and act on."""


class StaleEditError(CaseError):
    """Someone else saved the case after this form was opened."""


class DuplicateCaseError(CaseError):
    """The same service or ID number is already on file."""

    def __init__(self, message: str, matches: list[Case]) -> None:
        super().__init__(message)
        self.matches = matches


class PossibleDuplicateWarning(CaseError):
    """The same name and date of birth are already on file; the user must confirm."""

    def __init__(self, message: str, matches: list[Case]) -> None:
        super().__init__(message)
        self.matches = matches


STALE_EDIT_MESSAGE = gettext_lazy(
    "Someone else changed this case while you were editing. Reload it and make your change again."
)

# Fields staff fill in at intake and may edit later (the form decides which are shown).
IDENTITY_FIELDS = (
    "real_name",
    "alias",
    "service_number",
    "national_id",
    "phone",
    "date_of_birth",
    "unit",
    "family_whereabouts",
)
CONTACT_FIELDS = (
    "contact_date",
    "channel",
    "region",
    "township",
    "force",
    "rank",
    "unit_type",
    "defection_date",
    "urgency",
    "risk_level",
    "intake_notes",
)
EDITABLE_FIELDS = frozenset(IDENTITY_FIELDS + CONTACT_FIELDS)
IDENTIFYING_FIELDS = frozenset({"service_number", "national_id", "real_name", "date_of_birth"})


ERASED_CASE_MESSAGE = gettext_lazy(
    "This case's identity has been erased: the case is kept for the statistics and can no "
    "longer be changed."
)


def _lock(case: Case) -> Case:
    locked = Case.objects.select_for_update(of=("self",)).select_related("data_key").get(pk=case.pk)
    # An erased case's data key is gone: nothing could be encrypted for it any more.
    if locked.is_erased:
        raise CaseError(ERASED_CASE_MESSAGE)
    return locked


def _check_dates(fields: dict[str, Any], case: Case | None = None) -> None:
    today = timezone.localdate()

    def value(name: str):
        return fields[name] if name in fields else (getattr(case, name) if case else None)

    contact, defection, birth = (
        value("contact_date"),
        value("defection_date"),
        value("date_of_birth"),
    )
    if contact and contact > today:
        raise CaseError(_("The date of first contact cannot be in the future."))
    if defection and defection > today:
        raise CaseError(_("The date of defection cannot be in the future."))
    if isinstance(birth, datetime.date):
        if birth > today:
            raise CaseError(_("The date of birth cannot be in the future."))
        if defection and defection < birth:
            raise CaseError(_("The date of defection cannot be before the date of birth."))
        if today.year - birth.year > 100:
            raise CaseError(_("The date of birth is more than 100 years ago."))


IDENTITY_LOCK_KEY = 0x48415645  # "HAVE": one advisory lock for every identity change


def _serialise_identity_changes() -> None:
    """Intakes and identity edits take turns, so a duplicate check sees every committed case.
    (The unique constraints on the blind indexes are the last line if anything slips past.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IDENTITY_LOCK_KEY])


def _allocate_code(year: int) -> str:
    """The next code of the year, under a row lock held until the intake commits: concurrent
    intakes wait for each other, and a rolled-back intake gives its number back."""
    CaseCodeCounter.objects.get_or_create(year=year)
    counter = CaseCodeCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"HV-{year}-{counter.last_number:05d}"


def duplicate_matches(
    *,
    service_number: str | None = None,
    national_id: str | None = None,
    exclude: Case | None = None,
) -> list[Case]:
    """Cases with the same service or national ID number (through the blind indexes)."""
    from django.db.models import Q

    condition = Q(pk__in=[])
    if service_number:
        condition |= blind_index_filter(Case, "service_number", service_number)
    if national_id:
        condition |= blind_index_filter(Case, "national_id", national_id)
    matches = Case.objects.filter(condition).only("pk", "code", "status")
    if exclude is not None:
        matches = matches.exclude(pk=exclude.pk)
    return list(matches.order_by("code"))


def name_and_birth_matches(
    *, real_name: str | None, date_of_birth: datetime.date | None, exclude: Case | None = None
) -> list[Case]:
    if not real_name or not date_of_birth:
        return []
    probe = Case(real_name=real_name, date_of_birth=date_of_birth)
    digest = Case._meta.get_field("name_and_birth_index").digest_of(probe)
    matches = Case.objects.filter(name_and_birth_index=digest).only("pk", "code", "status")
    if exclude is not None:
        matches = matches.exclude(pk=exclude.pk)
    return list(matches.order_by("code"))


def _refuse_duplicates(
    fields: dict[str, Any], *, case: Case | None, confirmed_not_duplicate: bool
) -> None:
    hard = duplicate_matches(
        service_number=fields.get("service_number"),
        national_id=fields.get("national_id"),
        exclude=case,
    )
    if hard:
        raise DuplicateCaseError(
            _(
                "This service or ID number is already on file. "
                "Check the existing case before going on."
            ),
            hard,
        )
    if confirmed_not_duplicate:
        return
    name = fields.get("real_name", case.real_name if case else None)
    birth = fields.get("date_of_birth", case.date_of_birth if case else None)
    if "real_name" in fields or "date_of_birth" in fields:
        soft = name_and_birth_matches(real_name=name, date_of_birth=birth, exclude=case)
        if soft:
            raise PossibleDuplicateWarning(
                _(
                    "A case with the same name and date of birth exists. "
                    "Confirm this is a different person."
                ),
                soft,
            )


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise CaseError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    return {
        name: (value.strip() if isinstance(value, str) else value) for name, value in fields.items()
    }


@transaction.atomic
def case_intake(*, actor: User, confirmed_not_duplicate: bool = False, **fields: Any) -> Case:
    """Record a new contact as a case in intake (the intake draft)."""
    require_permission(actor, "cases.add_case")
    fields = _clean(fields)
    if not fields.get("real_name"):
        raise CaseError(_("A real name is needed, even if only a first name."))
    _check_dates(fields)
    _serialise_identity_changes()
    _refuse_duplicates(fields, case=None, confirmed_not_duplicate=confirmed_not_duplicate)
    contact_date = fields.get("contact_date") or timezone.localdate()
    fields["contact_date"] = contact_date
    with audit_context(actor=actor, action="case.intake"):
        # The code carries the year of first contact (a contact recorded late keeps its year).
        case = Case(code=_allocate_code(contact_date.year), intake_officer=actor, **fields)
        case.save()
        for item in CheckItem.values:
            VerificationCheck.objects.create(case=case, item=item)
    return case


@transaction.atomic
def case_update(
    *, case: Case, actor: User, version: int, confirmed_not_duplicate: bool = False, **fields: Any
) -> Case:
    """Edit a case's details. Refused if someone else saved it since `version` was read."""
    require_permission(actor, "cases.change_case")
    case = _lock(case)
    if case.version != version:
        raise StaleEditError(STALE_EDIT_MESSAGE)
    if case.status != Status.INTAKE and not actor.has_perm("cases.decide_case"):
        raise CaseError(_("Only a case manager can edit a case after intake."))
    if not case.is_open:
        raise CaseError(_("A closed case cannot be edited; re-open it first."))
    fields = _clean(fields)
    if "real_name" in fields and not fields["real_name"]:
        raise CaseError(_("A real name is needed, even if only a first name."))
    _check_dates(fields, case)
    if IDENTIFYING_FIELDS & set(fields):
        _serialise_identity_changes()
    _refuse_duplicates(fields, case=case, confirmed_not_duplicate=confirmed_not_duplicate)
    for name, value in fields.items():
        setattr(case, name, value)
    case.version += 1
    with audit_context(actor=actor, action="case.update"):
        case.save()
    return case


@transaction.atomic
def case_start_verification(*, case: Case, actor: User) -> Case:
    require_permission(actor, "cases.verify_case")
    case = _lock(case)
    if case.status != Status.INTAKE:
        raise CaseError(_("Only a case in intake can go to verification."))
    case.status, case.verifier = Status.VERIFYING, actor
    case.version += 1
    with audit_context(actor=actor, action="case.start_verification"):
        case.save(update_fields=["status", "verifier", "version", "updated_at"])
    return case


@transaction.atomic
def verification_check_record(
    *, check: VerificationCheck, actor: User, result: str, notes: str = ""
) -> VerificationCheck:
    require_permission(actor, "cases.verify_case")
    case = _lock(check.case)
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
def case_propose_decision(*, case: Case, actor: User, decision: str, reason: str) -> Case:
    require_permission(actor, "cases.verify_case")
    case = _lock(case)
    if case.status != Status.VERIFYING:
        raise CaseError(_("A decision can be proposed only while the case is being verified."))
    if decision not in (Status.VERIFIED, Status.REJECTED):
        raise CaseError(_("Propose either verified or rejected."))
    if not reason.strip():
        raise CaseError(_("Give a reason for the proposal."))
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
    if decision == Status.VERIFIED:
        unfinished = VerificationCheck.objects.filter(case=case).exclude(result=CheckResult.PASSED)
        if unfinished.exists():
            raise CaseError(_("Every check must have passed before a case can be verified."))
    case.status, case.decided_by, case.decided_at = decision, actor, timezone.now()
    case.decision_reason = reason.strip()
    case.case_manager = case.case_manager or actor
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
    case.proposed_decision, case.proposal_reason, case.verifier = "", "", None
    case.version += 1
    with audit_context(actor=actor, action="case.reopen"):
        case.save()
        VerificationCheck.objects.filter(case=case).update(
            result=CheckResult.PENDING, checked_by=None, checked_at=None
        )
    return case


@transaction.atomic
def case_set_stage(*, case: Case, actor: User, stage: str, reason: str = "") -> Case:
    require_permission(actor, "cases.manage_safety")
    case = _lock(case)
    if stage not in JourneyStage.values:
        raise CaseError(_("Choose a journey stage."))
    if stage == case.journey_stage:
        raise CaseError(_("The case is already at that stage."))
    case.journey_stage = stage
    case.version += 1
    with audit_context(actor=actor, action="case.stage"):
        case.save(update_fields=["journey_stage", "version", "updated_at"])
        JourneyEvent.objects.create(
            case=case, kind=JourneyEventKind.STAGE, stage=stage, by=actor, reason=reason
        )
    return case


@transaction.atomic
def case_set_emergency(*, case: Case, actor: User, emergency: bool, reason: str) -> Case:
    require_permission(actor, "cases.manage_safety")
    case = _lock(case)
    if case.emergency == emergency:
        raise CaseError(_("The emergency flag is already set that way."))
    if not reason.strip():
        raise CaseError(_("Say why the emergency flag changes."))
    case.emergency = emergency
    case.emergency_since = timezone.now() if emergency else None
    case.version += 1
    kind = JourneyEventKind.EMERGENCY_ON if emergency else JourneyEventKind.EMERGENCY_OFF
    with audit_context(actor=actor, action="case.emergency"):
        case.save(update_fields=["emergency", "emergency_since", "version", "updated_at"])
        JourneyEvent.objects.create(case=case, kind=kind, by=actor, reason=reason.strip())
    return case


@transaction.atomic
def case_update_safety_plan(
    *, case: Case, actor: User, version: int, safety_plan: str, case_manager: User | None
) -> Case:
    require_permission(actor, "cases.manage_safety")
    case = _lock(case)
    if case.version != version:
        raise StaleEditError(STALE_EDIT_MESSAGE)
    if case_manager is not None and not case_manager.has_perm("cases.decide_case"):
        raise CaseError(_("The assigned case manager must have the case manager role."))
    case.safety_plan = safety_plan.strip() or None
    case.case_manager = case_manager
    case.version += 1
    with audit_context(actor=actor, action="case.safety_plan"):
        case.save()
    return case


def _require_editable_details(case: Case, actor: User) -> None:
    if not actor.has_perm("cases.change_case") and not actor.has_perm("cases.manage_safety"):
        require_permission(actor, "cases.change_case")
    if not case.is_open:
        raise CaseError(_("A closed case cannot be changed; re-open it first."))
    if case.status != Status.INTAKE and not actor.has_perm("cases.manage_safety"):
        raise CaseError(_("After intake, only a case manager can change family and items."))


@transaction.atomic
def family_member_add(
    *,
    case: Case,
    actor: User,
    name: str,
    relation: str,
    age: int | None = None,
    whereabouts: str = "",
    needs_housing: bool = False,
) -> FamilyMember:
    case = _lock(case)
    _require_editable_details(case, actor)
    if not name.strip():
        raise CaseError(_("Give the family member's name."))
    if age is not None and not 0 <= age <= 120:
        raise CaseError(_("Age must be between 0 and 120."))
    with audit_context(actor=actor, action="case.family_add"):
        return FamilyMember.objects.create(
            case=case,
            name=name.strip(),
            relation=relation,
            age=age,
            whereabouts=whereabouts.strip() or None,
            needs_housing=needs_housing,
        )


@transaction.atomic
def family_member_remove(*, member: FamilyMember, actor: User) -> None:
    case = _lock(member.case)
    _require_editable_details(case, actor)
    with audit_context(actor=actor, action="case.family_remove"):
        FamilyMember.objects.filter(pk=member.pk, case=case).delete()


@transaction.atomic
def item_add(
    *,
    case: Case,
    actor: User,
    item_type: str,
    count: int,
    handed_over_to: str = "",
    notes: str = "",
) -> ItemBrought:
    case = _lock(case)
    _require_editable_details(case, actor)
    if item_type not in ITEM_CATEGORY_OF_TYPE:
        raise CaseError(_("Choose what kind of item it is."))
    if count is None or count < 1:
        raise CaseError(_("The count must be at least 1."))
    with audit_context(actor=actor, action="case.item_add"):
        return ItemBrought.objects.create(
            case=case,
            category=ITEM_CATEGORY_OF_TYPE[item_type],
            item_type=item_type,
            count=count,
            handed_over_to=handed_over_to.strip(),
            notes=notes.strip(),
            recorded_by=actor,
        )


@transaction.atomic
def item_remove(*, item: ItemBrought, actor: User) -> None:
    case = _lock(item.case)
    _require_editable_details(case, actor)
    with audit_context(actor=actor, action="case.item_remove"):
        ItemBrought.objects.filter(pk=item.pk, case=case).delete()


# --- evidence ---------------------------------------------------------------------------------

EVIDENCE_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}


def evidence_content_type(head: bytes) -> str | None:
    """The type of a file judged by its content, not its name."""
    return next(
        (kind for signature, kind in EVIDENCE_SIGNATURES.items() if head.startswith(signature)),
        None,
    )


def _evidence_path(storage_name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "evidence" / storage_name


@transaction.atomic
def evidence_add(*, case: Case, actor: User, kind: str, upload: Any) -> Evidence:
    """Store an uploaded file encrypted under the case's data key; refuse anything but a PDF,
    JPEG or PNG within the size limit."""
    if not (actor.has_perm("cases.change_case") or actor.has_perm("cases.verify_case")):
        require_permission(actor, "cases.change_case")
    case = _lock(case)
    if not case.is_open:
        raise CaseError(_("A closed case takes no new evidence."))
    limit = settings.HAVEN_EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise CaseError(
            _("The file is too large: the limit is %(megabytes)s MB.")
            % {"megabytes": limit // (1024 * 1024)}
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise CaseError(_("The file is too large."))
    content_type = evidence_content_type(data[:16])
    if content_type is None:
        raise CaseError(_("Only PDF, JPEG and PNG files can be stored as evidence."))
    storage_name = f"{uuid.uuid4().hex}.bin"
    path = _evidence_path(storage_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encrypt_bytes(data, data_key_id=case.data_key_id))
    # Should the outer transaction roll back later, the file stays behind as ciphertext under
    # the case's key: unreadable without a row pointing at it, and erased with the case's key.
    try:
        with audit_context(actor=actor, action="case.evidence_add"):
            evidence = Evidence.objects.create(
                case=case,
                kind=kind,
                original_name=Path(getattr(upload, "name", "") or "evidence").name[:255],
                content_type=content_type,
                size=len(data),
                storage_name=storage_name,
                uploaded_by=actor,
            )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return evidence


def evidence_open(*, evidence: Evidence, actor: User, request: Any = None) -> bytes:
    """Decrypt an evidence file for someone allowed to see identity; every opening is logged."""
    require_permission(actor, "cases.view_case")
    require_permission(actor, "accounts.reveal_identity")
    data = decrypt_bytes(
        _evidence_path(evidence.storage_name).read_bytes(), data_key_id=evidence.data_key_id
    )
    log_access(
        action=AccessLog.Action.REVEAL,
        actor=actor,
        request=request,
        target=evidence.case,
        field=f"evidence:{evidence.pk}",
    )
    return data


# --- referrals, notes, duplicates ---------------------------------------------------------------


@transaction.atomic
def referral_create(
    *, case: Case, actor: User, partner_type: str, partner_name: str, purpose: str
) -> Referral:
    require_permission(actor, "cases.manage_safety")
    case = _lock(case)
    if not partner_name.strip() or not purpose.strip():
        raise CaseError(_("Name the partner organisation and the purpose of the referral."))
    with audit_context(actor=actor, action="case.referral_add"):
        return Referral.objects.create(
            case=case,
            partner_type=partner_type,
            partner_name=partner_name.strip(),
            purpose=purpose.strip(),
            created_by=actor,
        )


REFERRAL_TRANSITIONS = {
    ReferralStatus.PROPOSED: {ReferralStatus.SENT, ReferralStatus.DECLINED},
    ReferralStatus.SENT: {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED},
    ReferralStatus.ACCEPTED: {ReferralStatus.COMPLETED},
    ReferralStatus.DECLINED: set(),
    ReferralStatus.COMPLETED: set(),
}


@transaction.atomic
def referral_set_status(*, referral: Referral, actor: User, status: str) -> Referral:
    require_permission(actor, "cases.manage_safety")
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if status not in REFERRAL_TRANSITIONS.get(referral.status, set()):
        raise CaseError(
            _("A referral that is %(current)s cannot become %(new)s.")
            % {
                "current": referral.get_status_display(),
                "new": ReferralStatus(status).label if status in ReferralStatus.values else status,
            }
        )
    referral.status = status
    with audit_context(actor=actor, action="case.referral_status"):
        referral.save(update_fields=["status", "updated_at"])
    return referral


CASE_WORKER_PERMISSIONS = (
    "cases.change_case",
    "cases.verify_case",
    "cases.decide_case",
    "cases.manage_safety",
)


@transaction.atomic
def case_note_add(*, case: Case, actor: User, text: str) -> CaseNote:
    if not any(actor.has_perm(permission) for permission in CASE_WORKER_PERMISSIONS):
        require_permission(actor, "cases.change_case")
    if not text.strip():
        raise CaseError(_("A note cannot be empty."))
    if case.is_erased:
        raise CaseError(ERASED_CASE_MESSAGE)
    with audit_context(actor=actor, action="case.note_add"):
        return CaseNote.objects.create(case=case, text=text.strip(), author=actor)


@transaction.atomic
def duplicate_dismiss(*, first: Case, second: Case, actor: User, reason: str) -> DuplicateDismissal:
    require_permission(actor, "cases.review_duplicates")
    if first.pk == second.pk:
        raise CaseError(_("A case cannot be a duplicate of itself."))
    if not reason.strip():
        raise CaseError(_("Say how you know these are different people."))
    low, high = sorted((first, second), key=lambda case: case.pk)
    try:
        with transaction.atomic(), audit_context(actor=actor, action="case.not_duplicate"):
            return DuplicateDismissal.objects.create(
                first_case=low, second_case=high, reason=reason.strip(), dismissed_by=actor
            )
    except IntegrityError as error:
        raise CaseError(_("These two cases are already marked as different people.")) from error


def cases_in(codes: Iterable[str]) -> list[Case]:
    return list(Case.objects.filter(code__in=list(codes)).order_by("code"))
