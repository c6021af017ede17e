"""Taking a case in and editing its details: dates checked, duplicates refused, and identity
changes taking turns so that a duplicate check sees every committed case."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import require_permission
from audit.services import audit_context
from cases.choices import CheckItem, Rank, Status
from cases.models import Case, CaseCodeCounter, VerificationCheck
from cases.services.common import (
    STALE_EDIT_MESSAGE,
    CaseError,
    StaleEditError,
    _lock,
    require_team,
)
from cases.services.duplicates import (
    DuplicateCaseError,
    PossibleDuplicateWarning,
    duplicate_matches,
    name_and_birth_matches,
)
from cases.services.verification import (
    CHECKED_FIELDS,
    verification_reset_for_identity_change,
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
# Details only the case's team sees, so only the team changes (cases/rules.py): the identity,
# and the details that narrow a person down (shown coarse to others).
NEED_TO_KNOW_FIELDS = frozenset(IDENTITY_FIELDS) | frozenset(Case.COARSE_FIELDS)


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
    # The rank is encrypted, so the database cannot check it: its group would be "unknown".
    if "rank" in fields and fields["rank"] not in Rank.values:
        raise CaseError(_("Choose a rank from the list."))
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
    if NEED_TO_KNOW_FIELDS & set(fields):
        require_team(actor, case)
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
    changed = [
        name
        for name in CHECKED_FIELDS
        if name in fields
        and _comparable(case, name, getattr(case, name)) != _comparable(case, name, fields[name])
    ]
    for name, value in fields.items():
        setattr(case, name, value)
    if {"service_number", "national_id"} & set(changed):
        # A new number is checked against the others (above) and held to the rule again.
        case.identifier_clash = False
    case.version += 1
    with audit_context(actor=actor, action="case.update"):
        verification_reset_for_identity_change(case=case, actor=actor, changed=changed)
        case.save()
    return case


def _comparable(case: Case, name: str, value: Any) -> str:
    """A field's value as text, so that "unchanged" means the same whatever its type."""
    if value is None or value == "":
        return ""
    field = case._meta.get_field(name)
    return field.to_plaintext(value) if hasattr(field, "to_plaintext") else str(value).strip()
