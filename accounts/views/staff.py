"""The staff list."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import selectors


@permission_required("accounts.manage_staff", raise_exception=True)
def staff_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.staff_list(), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/staff_list.html", {"page": page})
