"""What the case pages share: the tabs of a case, protected values shown masked until revealed,
and the look-ups and permission checks several pages make.

Views parse forms and call one service or selector; every refusal from a service is shown as a
message on the page, never as an error page."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import parse_id
from cases import selectors
from cases.choices import CheckItem, Status
from cases.forms import EmergencyForm, StageForm
from cases.links import links_for
from cases.models import Case, FamilyMember
from cases.rules import SEE_IDENTITY, may_reveal_at_all
from cases.services import CASE_WORKER_PERMISSIONS, on_team, open_glass
from cases.services.intake import IDENTITY_FIELDS as EDITABLE_IDENTITY_FIELDS

# Encrypted fields of a case that the identity tab lists, in order, and those shown as text.
IDENTITY_FIELDS = (*EDITABLE_IDENTITY_FIELDS, "intake_notes")
LONG_TEXT_FIELDS = frozenset({"family_whereabouts", "intake_notes", "safety_plan", "whereabouts"})
REVEALABLE_CASE_FIELDS = frozenset(IDENTITY_FIELDS) | {"safety_plan"}

TABS = (
    ("summary", gettext_lazy("Summary"), "cases:detail"),
    ("identity", gettext_lazy("Identity"), "cases:identity"),
    ("family", gettext_lazy("Family"), "cases:family"),
    ("items", gettext_lazy("Items brought"), "cases:items"),
    ("checks", gettext_lazy("Verification"), "cases:checks"),
    ("evidence", gettext_lazy("Evidence"), "cases:evidence"),
    ("journey", gettext_lazy("Journey"), "cases:journey"),
    ("referrals", gettext_lazy("Referrals"), "cases:referrals"),
    ("notes", gettext_lazy("Notes"), "cases:notes"),
    ("history", gettext_lazy("History"), "cases:history"),
    ("team", gettext_lazy("Team"), "cases:team"),
)


def _is_case_worker(user) -> bool:
    return any(user.has_perm(permission) for permission in CASE_WORKER_PERMISSIONS)


def _case_or_404(pk: int) -> Case:
    return get_object_or_404(Case, pk=pk)


def _detail_or_404(pk: int) -> Case:
    try:
        return selectors.case_detail(pk=pk)
    except Case.DoesNotExist as error:
        raise Http404 from error


def _has_value(obj: models.Model, name: str) -> bool:
    """Whether a (possibly encrypted) field holds something, without decrypting it."""
    field = obj._meta.get_field(name)
    value = obj.__dict__.get(field.attname)
    return value is not None and value != ""


def _display(value: Any) -> str:
    if isinstance(value, datetime.date):
        return formats.date_format(value)
    return "" if value is None else str(value)


def _protected(
    obj: models.Model, name: str, reveal_url: str, target_id: str, revealed: dict | None = None
) -> dict[str, Any]:
    """What the protected-value partial needs: the value (shown only masked unless revealed)."""
    field = obj._meta.get_field(name)
    is_revealed = bool(revealed and name in revealed)
    if is_revealed:
        value = revealed[name]
    elif not _has_value(obj, name):
        value = ""
    elif name in LONG_TEXT_FIELDS:
        value = True  # shown as "(hidden text)": no need to decrypt it
    else:
        value = getattr(obj, name)  # decrypted only to be masked
    return {
        "name": name,
        "label": field.verbose_name,
        "value": value,
        "display": _display(value) if is_revealed else "",
        "revealed": is_revealed,
        "long_text": name in LONG_TEXT_FIELDS,
        "reveal_url": reveal_url,
        "target_id": target_id,
    }


def _case_protected(case: Case, name: str, revealed: dict | None = None) -> dict[str, Any]:
    return _protected(
        case,
        name,
        reverse("cases:reveal", kwargs={"pk": case.pk, "field": name}),
        f"protected-{name}",
        revealed,
    )


def _member_protected(member: FamilyMember, name: str, revealed: dict | None = None) -> dict:
    return _protected(
        member,
        name,
        reverse(
            "cases:family_reveal",
            kwargs={"pk": member.case_id, "member_pk": member.pk, "field": name},
        ),
        f"member-{member.pk}-{name}",
        revealed,
    )


def _family_rows(members, revealed_member: int | None = None, revealed: dict | None = None):
    return [
        {
            "member": member,
            "name": _member_protected(
                member, "name", revealed if member.pk == revealed_member else None
            ),
            "whereabouts": _member_protected(
                member, "whereabouts", revealed if member.pk == revealed_member else None
            ),
        }
        for member in members
    ]


def _ordered_checks(case: Case) -> list:
    """The checklist in the order staff work through it (as CheckItem declares it)."""
    order = {item: position for position, item in enumerate(CheckItem.values)}
    return sorted(case.checks.all(), key=lambda check: order.get(check.item, len(order)))


def _posted_int(request: HttpRequest, name: str) -> int:
    value = parse_id(request.POST.get(name, ""))
    if value is None:
        raise Http404
    return value


def _tab_context(request: HttpRequest, case: Case, tab: str, **extra: Any) -> dict[str, Any]:
    sees = request.user.has_perm(SEE_IDENTITY, case)
    return {
        "case": case,
        "tab": tab,
        "tabs": [
            {"name": name, "label": label, "url": reverse(url_name, kwargs={"pk": case.pk})}
            for name, label, url_name in TABS
        ],
        # Need-to-know (cases/rules.py): the team, or a break-the-glass still open.
        "may_reveal": sees,
        "may_break_glass": may_reveal_at_all(request.user) and not sees,
        "glass": open_glass(case, request.user)
        if sees and not on_team(case, request.user)
        else None,
        "is_case_worker": _is_case_worker(request.user),
        "case_links": links_for(request.user, case),
        **extra,
    }


def _render_tab(request: HttpRequest, case: Case, tab: str, **extra: Any) -> HttpResponse:
    return render(request, f"cases/detail_{tab}.html", _tab_context(request, case, tab, **extra))


def _edit_refusal(case: Case, user) -> str:
    if not case.is_open:
        return _("A closed case cannot be edited; re-open it first.")
    if case.status != Status.INTAKE and not user.has_perm("cases.decide_case"):
        return _("Only a case manager can edit a case after intake.")
    return ""


def _journey_context(
    case: Case,
    *,
    stage_form: StageForm | None = None,
    emergency_form: EmergencyForm | None = None,
    revealed: dict | None = None,
) -> dict[str, Any]:
    return {
        "stage_form": stage_form or StageForm(initial={"stage": case.journey_stage}),
        "emergency_form": emergency_form
        or EmergencyForm(initial={"emergency": "off" if case.emergency else "on"}),
        "events": case.journey_events.all(),
        "safety_plan": _case_protected(case, "safety_plan", revealed),
    }
