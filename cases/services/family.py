"""The family members of a case, added and removed at intake or later by a case manager."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_context
from cases.models import Case, FamilyMember
from cases.services.common import CaseError, _lock, _require_editable_details


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
