"""The case list with its search and filters, and the review of possible duplicates."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.permissions import refusal_message
from cases import selectors, services
from cases.forms import CaseFilterForm, DuplicateDismissForm
from cases.models import Case
from cases.services import CaseError
from cases.services.lookups import LookupRefused, protected_lookup
from cases.views.common import _posted_int

PAGE_SIZE = 25
DUPLICATE_REASON_LABELS = {
    "same service number": gettext_lazy("Same service number"),
    "same national ID number": gettext_lazy("Same national ID number"),
    "same name and date of birth": gettext_lazy("Same name and date of birth"),
}


def _is_case_code_search(text: str) -> bool:
    return text.strip().upper().startswith("HV-")


def _hidden_match_message(manager: User | None) -> str:
    if manager is not None:
        return _("A case outside your cases matches: ask its case manager, %(manager)s.") % {
            "manager": manager
        }
    return _("A case outside your cases matches: ask a case manager.")


@permission_required("cases.view_case", raise_exception=True)
def case_list(request: HttpRequest) -> HttpResponse:
    """Search and filters. A search by service or ID number is posted and answered on the spot:
    the number never goes into a URL (browser history, server logs) nor back into the page."""
    if request.method == "POST":
        filter_form = CaseFilterForm(request.POST)
        values = filter_form.valid_values()
        if not values.get("q") or _is_case_code_search(values["q"]):
            return redirect(f"{reverse('cases:list')}?{urlencode(values)}")
        try:
            protected_lookup(actor=request.user, kind="case search", request=request)
        except LookupRefused as refusal:
            messages.error(request, str(refusal))
            values.pop("q")
            return redirect(f"{reverse('cases:list')}?{urlencode(values)}")
        number_search = True
    else:
        filter_form = CaseFilterForm(request.GET)
        values = filter_form.valid_values()
        if values.get("q") and not _is_case_code_search(values["q"]):
            filter_form = CaseFilterForm({**values, "q": ""})
            values.pop("q")
        number_search = False
    # Whether the reader may see each case's people: annotated for a number search (which keeps
    # only those), worked out for the shown page only otherwise.
    filters = filter_form.filters()
    cases = selectors.case_list(filters=filters, user=request.user if number_search else None)
    if number_search:
        # A number finds only the cases whose people this person may see; of the others they
        # learn only that one matches, and whom to ask.
        hidden = list(cases.filter(sees_identity=False).values_list("case_manager", flat=True)[:5])
        cases = cases.filter(sees_identity=True)
        managers = User.objects.in_bulk([pk for pk in hidden if pk])
        for manager_pk in hidden:
            messages.info(request, _hidden_match_message(managers.get(manager_pk)))
    paginator = Paginator(cases, PAGE_SIZE)
    if not number_search:
        paginator.count = selectors.case_list_count(filters=filters, cases=cases)
    page = paginator.get_page(1 if number_search else request.GET.get("page"))
    visible = selectors.visible_case_ids(user=request.user, pks=[case.pk for case in page])
    for case in page:
        case.sees_identity = case.pk in visible
    shown_values = {
        name: value for name, value in values.items() if name != "q" or not number_search
    }
    return render(
        request,
        "cases/list.html",
        {
            "page": page,
            "form": CaseFilterForm(initial=shown_values),
            "filtered": bool(values),
            "number_search": number_search,
            "query": urlencode(shown_values) + "&" if shown_values else "",
        },
    )


def _pair_prefix(first_pk: int, second_pk: int) -> str:
    return f"pair-{first_pk}-{second_pk}"


@permission_required(("cases.view_case", "cases.review_duplicates"), raise_exception=True)
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """Pairs of cases that may be the same person, each with a "not a duplicate" form."""
    bound, bound_key = None, None
    if request.method == "POST":
        first = get_object_or_404(Case, pk=_posted_int(request, "first"))
        second = get_object_or_404(Case, pk=_posted_int(request, "second"))
        bound_key = (first.pk, second.pk)
        bound = DuplicateDismissForm(request.POST, prefix=_pair_prefix(*bound_key))
        if bound.is_valid():
            try:
                services.duplicate_dismiss(
                    first=first, second=second, actor=request.user, **bound.cleaned_data
                )
            except (CaseError, PermissionDenied) as error:
                bound.add_error(None, refusal_message(error))
            else:
                messages.success(
                    request,
                    _("%(first)s and %(second)s are marked as different people.")
                    % {"first": first.code, "second": second.code},
                )
                return redirect("cases:duplicates")
    rows = []
    for pair in selectors.possible_duplicates():
        key = (pair.first.pk, pair.second.pk)
        rows.append(
            {
                "pair": pair,
                "reasons": [DUPLICATE_REASON_LABELS.get(reason, reason) for reason in pair.reasons],
                "form": bound
                if key == bound_key
                else DuplicateDismissForm(prefix=_pair_prefix(*key)),
            }
        )
    shown = {(row["pair"].first.pk, row["pair"].second.pk) for row in rows}
    if bound is not None and bound_key not in shown and bound.non_field_errors():
        # The pair has left the list (e.g. someone dismissed it meanwhile): say why here.
        messages.error(request, " ".join(bound.non_field_errors()))
    return render(request, "cases/duplicates.html", {"rows": rows})
