"""The audit pages: the change history of every record and the access log."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit import selectors
from audit.history import (
    coarsen,
    describe_changes,
    describe_context,
    event_label,
    field_labels,
    record_type_label,
    run_of,
)
from audit.models import AccessLog

# Up to 18 digits: any bigint primary key, nothing PostgreSQL would refuse.
RECORD_NUMBER = re.compile(r"[0-9]{1,18}")


@permission_required("accounts.view_audit", raise_exception=True)
def audit_trail(request: HttpRequest) -> HttpResponse:
    model = request.GET.get("model", "")
    models = selectors.history_models()
    if model not in models:
        model = ""
    # A record number: ASCII digits only (a "²" is a digit to Python, not to PostgreSQL).
    record_text = request.GET.get("record", "").strip()
    record = int(record_text) if model and RECORD_NUMBER.fullmatch(record_text) else None
    page = Paginator(selectors.history_events(model=model, record=record), 50).get_page(
        request.GET.get("page")
    )
    usernames = selectors.usernames_by_id(
        {str((event.pgh_context or {}).get("user")) for event in page}
    )
    labels = {event.pgh_obj_model: field_labels(event.pgh_obj_model) for event in page}
    diffs = selectors.history_diffs(page)
    rows = [
        {
            "event": event,
            "actor": usernames.get(str((event.pgh_context or {}).get("user")), ""),
            "what": event_label(event.pgh_label),
            "context": describe_context(event.pgh_context),
            "run": run_of(event.pgh_context),
            "record": record_type_label(event.pgh_obj_model),
            "changes": [
                (
                    labels[event.pgh_obj_model].get(field, field),
                    coarsen(event.pgh_obj_model, field, before),
                    coarsen(event.pgh_obj_model, field, after),
                )
                for field, before, after in describe_changes(diffs.get(event.pgh_slug))
            ],
        }
        for event in page
    ]
    record_types = [(name, record_type_label(name)) for name in models]
    return render(
        request,
        "audit/audit_trail.html",
        {
            "page": page,
            "rows": rows,
            "record_types": record_types,
            "model": model,
            "record": record,
            # The filters, kept by the pagination's links.
            "query": urlencode({"model": model, "record": record or ""}) + "&" if model else "",
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
