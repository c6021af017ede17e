"""Notes on a case, written and read by its team (cases/rules.py)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import require_permission
from audit.services import audit_context
from cases.models import Case, CaseNote
from cases.services.common import ERASED_CASE_MESSAGE, CaseError, require_team

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
    require_team(actor, case)
    if not text.strip():
        raise CaseError(_("A note cannot be empty."))
    if case.is_erased:
        raise CaseError(ERASED_CASE_MESSAGE)
    with audit_context(actor=actor, action="case.note_add"):
        return CaseNote.objects.create(case=case, text=text.strip(), author=actor)
