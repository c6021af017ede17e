"""What the case services share: the error a person can read and act on, the stale-edit and
erased-case messages, the lock every change to a case takes first, and who may change a case's
family and items."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import require_permission
from cases.choices import Status
from cases.models import Case
from cases.rules import SEE_IDENTITY


class CaseError(Exception):
    """A change refused for a reason a person can read and act on."""


class StaleEditError(CaseError):
    """Someone else saved the case after this form was opened."""


STALE_EDIT_MESSAGE = gettext_lazy(
    "Someone else changed this case while you were editing. Reload it and make your change again."
)

ERASED_CASE_MESSAGE = gettext_lazy(
    "This case's identity has been erased: the case is kept for the statistics and can no "
    "longer be changed."
)


def require_team(actor: User, case: Case) -> None:
    """Refuse whoever may not see the case's people (cases/rules.py): not on its team, no
    break-the-glass open, or no reveal permission."""
    if not actor.has_perm(SEE_IDENTITY, case):
        raise PermissionDenied(Case.REVEAL_REFUSAL)


def _lock(case: Case) -> Case:
    locked = Case.objects.select_for_update(of=("self",)).select_related("data_key").get(pk=case.pk)
    # An erased case's data key is gone: nothing could be encrypted for it any more.
    if locked.is_erased:
        raise CaseError(ERASED_CASE_MESSAGE)
    return locked


def _require_editable_details(case: Case, actor: User) -> None:
    if not actor.has_perm("cases.change_case") and not actor.has_perm("cases.manage_safety"):
        require_permission(actor, "cases.change_case")
    if not case.is_open:
        raise CaseError(_("A closed case cannot be changed; re-open it first."))
    if case.status != Status.INTAKE and not actor.has_perm("cases.manage_safety"):
        raise CaseError(_("After intake, only a case manager can change family and items."))
