"""What the housing pages share: the town and status filters of the board and the house list."""

from __future__ import annotations

from django.http import HttpRequest

from housing import selectors
from housing.forms import BoardFilterForm


def _filters(request: HttpRequest) -> tuple[BoardFilterForm, dict[str, str]]:
    form = BoardFilterForm(request.GET or None, towns=selectors.towns())
    if form.is_bound:
        form.is_valid()
    return form, form.filters()


def page_query(request: HttpRequest) -> str:
    """The request's filters, for the links to the other pages (partials/pagination.html)."""
    query = request.GET.copy()
    query.pop("page", None)
    return f"{query.urlencode()}&" if query else ""
