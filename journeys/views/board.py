"""The journeys board: every journey in progress with its next check-in as a countdown, escalated
and overdue first. htmx polls the rows every minute with the same query string, so the filters
and the scroll position stay where the user left them."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.forms import parse_id
from journeys import selectors
from journeys.models import Step

BOARD_LIMIT = 500


def _person(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return parse_id(value) if len(value) < 10 else None


@require_GET
@permission_required("journeys.view_journey", raise_exception=True)
@never_cache
def journey_board(request: HttpRequest) -> HttpResponse:
    coordinator_id, handler_id = _person(request, "coordinator"), _person(request, "handler")
    now = timezone.now()
    journeys = list(
        selectors.journey_board(request.user, coordinator_id=coordinator_id, handler_id=handler_id)[
            :BOARD_LIMIT
        ]
    )
    for journey in journeys:
        journey.is_overdue = journey.next_due is not None and journey.next_due <= now
        journey.is_missed = journey.next_grace_ends is not None and journey.next_grace_ends < now
        journey.step_label = Step(journey.escalation_step).label if journey.escalation_step else ""
    query = request.GET.copy()
    for name in list(query):
        if name not in ("coordinator", "handler"):
            del query[name]
    context = {"journeys": journeys, "now": now, "query": query.urlencode()}
    if request.htmx:
        return render(request, "journeys/partials/board_rows.html", context)
    coordinators, handlers = selectors.board_people(request.user)
    return render(
        request,
        "journeys/board.html",
        {
            **context,
            "coordinators": list(coordinators),
            "handlers": list(handlers),
            "coordinator_id": coordinator_id,
            "handler_id": handler_id,
        },
    )
