"""The audit pages: the change history of every record and the access log."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit import selectors
from audit.forms import AuditTrailFilterForm
from audit.history import (
    describe_changes,
    describe_context,
    event_label,
    field_labels,
    foreign_keys,
    format_history_value,
    record_type_label,
    run_of,
)
from audit.models import AccessLog

PAGE_SIZE = 50
USER_MODEL = settings.AUTH_USER_MODEL
# Up to 18 digits: any bigint primary key, nothing PostgreSQL would refuse.


@permission_required("accounts.view_audit", raise_exception=True)
def audit_trail(request: HttpRequest) -> HttpResponse:
    """Every change, newest first, filtered by person, case, date range, action and kind of
    record; records and people by their labels, dates in local time."""
    models = selectors.history_models()
    record_types = [(name, record_type_label(name)) for name in models]
    form = AuditTrailFilterForm(request.GET or None, record_types=record_types)
    filters = form.filters() if form.is_bound else selectors.HistoryFilters()
    # A record number narrows a kind of record to one record's changes (a payment line's run).
    # ASCII digits only (a "²" is a digit to Python, not to PostgreSQL).
    record_text = request.GET.get("record", "").strip()
    if filters and filters.model and selectors.RECORD_ID.fullmatch(record_text):
        filters = dataclasses.replace(filters, record=int(record_text))
    page = (
        selectors.history_page(
            filters=filters,
            before=selectors.HistoryCursor.parse(request.GET.get("before", "")),
            after=selectors.HistoryCursor.parse(request.GET.get("after", "")),
            size=PAGE_SIZE,
        )
        if filters
        else selectors.HistoryPage(events=[], newer=None, older=None)
    )
    changes = {event.pgh_slug: describe_changes(event.pgh_diff) for event in page.events}
    keys = {model: foreign_keys(model) for model in {event.pgh_obj_model for event in page.events}}
    references = {(event.pgh_obj_model, str(event.pgh_obj_id)) for event in page.events}
    for event in page.events:
        actor = (event.pgh_context or {}).get("user")
        if actor is not None:
            references.add((USER_MODEL, str(actor)))
        for field, before, after in changes[event.pgh_slug]:
            if field in keys[event.pgh_obj_model]:
                target = keys[event.pgh_obj_model][field]
                references |= {(target, before), (target, after)}
    labels = selectors.record_labels(references)

    def value(model: str, field: str, text: str) -> str:
        target = keys[model].get(field)
        if target and text:
            return labels.get((target, text)) or f"#{text}"
        return format_history_value(model, field, text)

    rows = []
    for event in page.events:
        fields = field_labels(event.pgh_obj_model)
        actor = (event.pgh_context or {}).get("user")
        rows.append(
            {
                "event": event,
                "actor": labels.get((USER_MODEL, str(actor)), "") if actor is not None else "",
                "what": event_label(event.pgh_label),
                "context": describe_context(event.pgh_context),
                "run": run_of(event.pgh_context),
                "record": record_type_label(event.pgh_obj_model),
                "label": labels.get((event.pgh_obj_model, str(event.pgh_obj_id)))
                or f"#{event.pgh_obj_id}",
                "changes": [
                    (
                        fields.get(field, field),
                        value(event.pgh_obj_model, field, before),
                        value(event.pgh_obj_model, field, after),
                    )
                    for field, before, after in changes[event.pgh_slug]
                ],
            }
        )
    paging = ("page", "before", "after")
    query = {name: value for name, value in request.GET.items() if name not in paging and value}
    return render(
        request,
        "audit/audit_trail.html",
        {
            "page": page,
            # A cursor in the address: not the newest page, so say how to get back to it.
            "paged": bool(request.GET.get("before") or request.GET.get("after")),
            "rows": rows,
            "form": form,
            "record": filters.record if filters else None,
            "query": urlencode(query) + "&" if query else "",
        },
    )


@permission_required("accounts.view_audit", raise_exception=True)
def access_log(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "")
    if action not in AccessLog.Action.values:
        action = ""
    # A NUL cannot be in a user name, and PostgreSQL refuses it in a query.
    username = request.GET.get("username", "").replace("\x00", "")[:150]
    page = Paginator(selectors.access_log(action=action, username=username), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "audit/access_log.html",
        {"page": page, "actions": AccessLog.Action.choices, "action": action, "username": username},
    )
