"""Possible duplicates: cases with the same service or ID number, or the same name and date
of birth, and the decisions that two cases are different people."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import require_permission
from audit.services import audit_context
from cases.models import Case, DuplicateDismissal
from cases.services.common import CaseError
from protection.blind_indexes import blind_index_filter


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
    matches = Case.objects.filter(condition).only("pk", "code", "status", "case_manager")
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
    matches = Case.objects.filter(name_and_birth_index=digest).only(
        "pk", "code", "status", "case_manager"
    )
    if exclude is not None:
        matches = matches.exclude(pk=exclude.pk)
    return list(matches.order_by("code"))


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
