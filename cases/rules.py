"""Need-to-know, in one place: who may see the people of a case.

A case's identity, family whereabouts, notes, evidence and every export with names are for its
team — the intake officer who took it in, its verifier, its case manager and the staff a case
manager added — and for whoever broke the glass to open it, until the window closes. Each of
them must also hold the reveal permission (`accounts.reveal_identity`); superusers pass (every
superuser login is an alert). Views, htmx fragments, exports, the admin and selectors all ask
`user.has_perm(SEE_IDENTITY, case)` for one case, or filter and annotate with `visible_to(user)`
for many; both read `team_condition` below, so they cannot disagree.
"""

from __future__ import annotations

import rules
from django.db.models import BooleanField, Exists, OuterRef, Q, Value, When
from django.db.models import Case as Switch
from django.db.models.expressions import Combinable
from django.utils import timezone

from accounts.services import REVEAL_PERMISSION

SEE_IDENTITY = "cases.see_identity"


def member_condition(user, *, prefix: str = "") -> Q:
    """The cases whose team `user` is on (a break-the-glass is not membership): a condition on
    Case (or, with `prefix`, on a model pointing at one)."""
    from cases.models import CaseTeamMember

    case_pk = OuterRef(f"{prefix}pk" if prefix else "pk")
    member = CaseTeamMember.objects.filter(case=case_pk, user=user.pk)
    return (
        Q(**{f"{prefix}intake_officer": user.pk})
        | Q(**{f"{prefix}verifier": user.pk})
        | Q(**{f"{prefix}case_manager": user.pk})
        | Q(Exists(member))
    )


def team_condition(user, *, prefix: str = "") -> Q:
    """The cases whose team `user` is on, or which they opened by breaking the glass and whose
    window is still open: a condition on Case (or, with `prefix`, on a model pointing at one)."""
    from cases.models import BreakGlass

    case_pk = OuterRef(f"{prefix}pk" if prefix else "pk")
    glass = BreakGlass.objects.filter(case=case_pk, user=user.pk, expires_at__gt=timezone.now())
    return member_condition(user, prefix=prefix) | Q(Exists(glass))


def may_reveal_at_all(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and user.has_perm(REVEAL_PERMISSION)
    )


def visible_to(user, *, prefix: str = "") -> Q | Combinable:
    """A condition true for the cases whose people `user` may see (`prefix` as above)."""
    if not may_reveal_at_all(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return ~Q(pk__in=[])
    return team_condition(user, prefix=prefix)


def identity_visible(user, *, prefix: str = "") -> Switch | Value:
    """An annotation: whether `user` may see the people of each case (a boolean column)."""
    if not may_reveal_at_all(user):
        return Value(False)
    if user.is_superuser:
        return Value(True)
    # A CASE, not the bare condition: "verifier = me" is NULL, not false, while a case has no
    # verifier, and NULL would match neither True nor False.
    return Switch(
        When(team_condition(user, prefix=prefix), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def case_of(obj):
    """The case an object belongs to: itself, or the case it points at."""
    from cases.models import Case

    return obj if isinstance(obj, Case) else getattr(obj, "case", None)


@rules.predicate
def holds_reveal_permission(user) -> bool:
    return may_reveal_at_all(user)


@rules.predicate
def on_team_or_glass(user, obj) -> bool:
    from cases.models import Case

    case = case_of(obj)
    if case is None or case.pk is None:
        return False
    return Case.objects.filter(pk=case.pk).filter(team_condition(user)).exists()


rules.add_perm(SEE_IDENTITY, holds_reveal_permission & on_team_or_glass)
