"""The occupancy board of all houses, and the waiting list of people who still need a bed."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from housing import selectors
from housing.models import HouseStatus
from housing.views.common import _filters, page_query

WAITING_PAGE_SIZE = 50
# Twelve houses (about 250 beds) a page: the board drew 24, a page of 150 KB that took most
# of the load test's time to draw; a coordinator looks at a town, or a few houses, at a time.
BOARD_PAGE_SIZE = 12


@permission_required("housing.view_bed", raise_exception=True)
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    houses = selectors.board_houses(**filters)
    page = Paginator(houses, BOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    # Every compromised house shown, whichever page this is: people must move. Their beds are
    # read with the page's, in the same three queries.
    compromised = list(houses.filter(status=HouseStatus.COMPROMISED))
    shown_pks = {house.pk for house in shown}
    board = {
        entry.house.pk: entry
        for entry in selectors.occupancy_of(
            shown + [house for house in compromised if house.pk not in shown_pks]
        )
    }
    return render(
        request,
        "housing/board.html",
        {
            "form": form,
            "page": page,
            "query": page_query(request),
            "houses": [board[house.pk] for house in shown],
            "total": selectors.occupancy_total(filters=filters),
            "compromised": [board[house.pk] for house in compromised],
            "filtered": any(filters.values()),
            # A case's housing history is at <prefix><case id>/: reversed once for the page,
            # not once per occupied bed.
            "case_history_prefix": reverse("housing:case_history", kwargs={"pk": 0}).removesuffix(
                "0/"
            ),
        },
    )


@permission_required("housing.view_allocation", raise_exception=True)
@require_GET
def waiting_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.waiting_list(), WAITING_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "housing/waiting_list.html",
        {
            "page": page,
            "entries": page.object_list,
            "waiting": page.paginator.count,
            "may_allocate": request.user.has_perm("housing.add_allocation"),
        },
    )
