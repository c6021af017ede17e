"""The history tab of a case: who changed what and when, with field names as staff know them
and encrypted values hidden."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy
from pghistory.models import Events

from audit import selectors as audit_selectors
from audit.history import coarsen, describe_changes, readable_value
from cases.rules import SEE_IDENTITY
from cases.views.common import _detail_or_404, _render_tab

HISTORY_PAGE_SIZE = 50
# What each audited action is called on the history tab.
ACTION_LABELS = {
    "case.intake": gettext_lazy("Case recorded at intake"),
    "case.update": gettext_lazy("Case details edited"),
    "case.start_verification": gettext_lazy("Verification started"),
    "case.check": gettext_lazy("Verification check recorded"),
    "case.propose": gettext_lazy("Decision proposed"),
    "case.decide": gettext_lazy("Case decided"),
    "case.withdraw": gettext_lazy("Case withdrawn"),
    "case.reopen": gettext_lazy("Case re-opened"),
    "case.stage": gettext_lazy("Journey stage changed"),
    "case.emergency": gettext_lazy("Emergency flag changed"),
    "case.safety_plan": gettext_lazy("Safety plan or case manager changed"),
    "case.family_add": gettext_lazy("Family member added"),
    "case.family_remove": gettext_lazy("Family member removed"),
    "case.item_add": gettext_lazy("Item added"),
    "case.item_remove": gettext_lazy("Item removed"),
    "case.evidence_add": gettext_lazy("Evidence uploaded"),
    "case.referral_add": gettext_lazy("Referral created"),
    "case.referral_status": gettext_lazy("Referral status changed"),
    "case.note_add": gettext_lazy("Note added"),
    "case.not_duplicate": gettext_lazy("Marked as not a duplicate"),
    "case.erasure_request": gettext_lazy("Erasure of the identity requested"),
    "case.erasure_propose": gettext_lazy("Erasure proposed by the retention rule"),
    "case.erasure_approve": gettext_lazy("Erasure approved"),
    "case.erasure_reject": gettext_lazy("Erasure rejected"),
    "case.erasure_cancel": gettext_lazy("Erasure request cancelled"),
    "case.erase": gettext_lazy("Identity erased"),
}
EVENT_LABELS = {
    "insert": gettext_lazy("Created"),
    "update": gettext_lazy("Changed"),
    "delete": gettext_lazy("Deleted"),
}
# Columns that change with every save and say nothing to a reader.
HISTORY_HIDDEN_COLUMNS = frozenset(
    {"id", "data_key_id", "version", "updated_at", "created_at", "case_id"}
)


def _model_or_none(model_label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(model_label)
    except (LookupError, ValueError):
        return None


def _field_info(model_label: str) -> dict[str, models.Field]:
    model = _model_or_none(model_label)
    if model is None:
        return {}
    return {
        field.attname: field
        for field in model._meta.concrete_fields
        if not field.name.startswith("pgh_")
    }


def _is_user_field(field: models.Field | None) -> bool:
    return bool(
        field is not None
        and field.is_relation
        and field.related_model is not None
        and field.related_model._meta.label == settings.AUTH_USER_MODEL
    )


def _readable(field: models.Field | None, text: str, usernames: dict[str, str]) -> str:
    """A value of the history as staff know it: a user's name, else as the audit trail writes
    it (audit.history.readable_value)."""
    if text and _is_user_field(field):
        return usernames.get(text, text)
    return readable_value(field, text)


def _history_rows(events, *, coarse: bool = False) -> list[dict[str, Any]]:
    """Who, when and what, with field names as staff know them and encrypted values hidden;
    with `coarse`, the details a model declares coarse are shown coarsened."""
    infos = {event.pgh_obj_model: _field_info(event.pgh_obj_model) for event in events}
    user_ids = {str((event.pgh_context or {}).get("user")) for event in events}
    for event in events:
        fields = infos[event.pgh_obj_model]
        user_ids.update(
            str(value)
            for name, value in (event.pgh_data or {}).items()
            if value is not None and _is_user_field(fields.get(name))
        )
    usernames = audit_selectors.usernames_by_id(user_ids)
    rows = []
    for event in events:
        fields = infos[event.pgh_obj_model]
        context = event.pgh_context or {}
        diff = event.pgh_diff
        if event.pgh_label == "insert" or not diff:
            # A new (or deleted) record: what it held, as if changed from nothing.
            diff = {name: (None, value) for name, value in (event.pgh_data or {}).items()}
        changes = []
        for name, before, after in describe_changes(diff):
            field = fields.get(name)
            if name in HISTORY_HIDDEN_COLUMNS or not (before or after):
                continue
            if coarse:
                before = coarsen(event.pgh_obj_model, name, before)
                after = coarsen(event.pgh_obj_model, name, after)
            changes.append(
                (
                    field.verbose_name if field is not None else name,
                    _readable(field, before, usernames),
                    _readable(field, after, usernames),
                )
            )
        model = _model_or_none(event.pgh_obj_model)
        code = (event.pgh_data or {}).get("code")
        rows.append(
            {
                "event": event,
                "actor": usernames.get(str(context.get("user")), ""),
                "action": ACTION_LABELS.get(context.get("action", ""), ""),
                "kind": EVENT_LABELS.get(event.pgh_label, event.pgh_label),
                "record": model._meta.verbose_name if model else event.pgh_obj_model,
                "record_number": code or f"#{event.pgh_obj_id}",
                "changes": changes,
            }
        )
    return rows


@permission_required("cases.view_case", raise_exception=True)
def case_history(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    events = Events.objects.references(case).order_by("-pgh_created_at", "-pgh_id")
    page = Paginator(events, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _history_rows(list(page), coarse=not request.user.has_perm(SEE_IDENTITY, case))
    return _render_tab(request, case, "history", page=page, rows=rows)
