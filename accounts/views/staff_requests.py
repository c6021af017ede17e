"""Requests about staff: the list of those waiting, a form to ask, the page where another
administrator approves (with a fresh code) or refuses, and the one-time link with which a staff
member sets their own password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts import staff_requests
from accounts.forms import ApproveForm, RefuseForm, SetupPasswordForm, StaffRequestForm, parse_id
from accounts.models import StaffRequest
from accounts.permissions import permission_required_logged, refusal_message
from accounts.setup_links import (
    TOKEN_PARAMETER,
    SetupLinkError,
    setup_link_check,
    setup_link_url,
    setup_link_use,
)
from accounts.views.emergency import confirmed_action
from accounts.views.login import qr_svg_of

PERMISSION = staff_requests.PERMISSION


@permission_required_logged(PERMISSION, action="staff_requests")
@never_cache
def staff_request_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    pending = [
        (item, staff_requests.describe(item), staff_requests.is_expired(item, now))
        for item in staff_requests.pending_requests()
    ]
    decided = [(item, staff_requests.describe(item)) for item in staff_requests.decided_requests()]
    return render(
        request,
        "accounts/staff_requests/list.html",
        {"pending": pending, "decided": decided},
    )


@permission_required_logged(PERMISSION, action="staff_request_new")
@never_cache
def staff_request_new(request: HttpRequest) -> HttpResponse:
    initial = {
        name: request.GET[name]
        for name in ("kind", "user", "role", "lock")
        if name in request.GET and (name == "kind" or parse_id(request.GET[name]) is not None)
    }
    form = StaffRequestForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            staff_requests.staff_request_create(
                actor=request.user,
                kind=data["kind"],
                reason=data["reason"],
                user=data["user"],
                role=data["role"],
                lock=data["lock"],
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                request=request,
            )
        except (staff_requests.StaffRequestError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("Your request waits for another administrator's approval."))
            return redirect("accounts:staff_requests")
    return render(request, "accounts/staff_requests/new.html", {"form": form})


@permission_required_logged(PERMISSION, action="staff_request_decide")
@never_cache
def staff_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    staff_request = get_object_or_404(
        StaffRequest.objects.select_related("user", "role", "requested_by", "decided_by", "lock"),
        pk=pk,
    )
    decision = request.POST.get("decision") if request.method == "POST" else None
    approve_form = ApproveForm(
        request.POST if decision == "approve" else None,
        actor=request.user,
        understood_label=_("I have checked this request and I approve it."),
    )
    refuse_form = RefuseForm(request.POST if decision == "refuse" else None)
    if decision == "approve" and approve_form.is_valid():
        try:
            approval, response = confirmed_action(
                request,
                approve_form,
                lambda: staff_requests.staff_request_approve(
                    staff_request=staff_request,
                    actor=request.user,
                    code=approve_form.cleaned_data["code"],
                    request=request,
                ),
            )
        except (staff_requests.StaffRequestError, PermissionDenied) as error:
            approval, response = None, None
            approve_form.add_error(None, refusal_message(error))
        if response is not None:
            return response
        if approval is not None:
            if approval.setup_token:
                return _show_setup_link(request, approval)
            messages.success(request, _("Approved and done."))
            return redirect("accounts:staff_requests")
    elif decision == "refuse" and refuse_form.is_valid():
        try:
            staff_requests.staff_request_refuse(
                staff_request=staff_request,
                actor=request.user,
                reason=refuse_form.cleaned_data["refusal_reason"],
                request=request,
            )
        except (staff_requests.StaffRequestError, PermissionDenied) as error:
            refuse_form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("Refused."))
            return redirect("accounts:staff_requests")
    return render(
        request,
        "accounts/staff_requests/detail.html",
        {
            "staff_request": staff_request,
            "description": staff_requests.describe(staff_request),
            "expired": staff_requests.is_expired(staff_request),
            "approve_form": approve_form,
            "refuse_form": refuse_form,
        },
    )


def _show_setup_link(request: HttpRequest, approval: staff_requests.Approval) -> HttpResponse:
    """Shown once, to the approver, to show the staff member in person: the token is not
    stored and cannot be shown again."""
    url = setup_link_url(approval.setup_token)
    return render(
        request,
        "accounts/staff_requests/setup_link.html",
        {
            "staff_request": approval.staff_request,
            "url": url,
            "qr_svg": qr_svg_of(url),
        },
    )


@login_not_required
@never_cache
def setup_password(request: HttpRequest) -> HttpResponse:
    token = request.GET.get(TOKEN_PARAMETER, "")
    try:
        link = setup_link_check(token)
    except SetupLinkError as error:
        return render(request, "accounts/setup_password.html", {"error": str(error)}, status=410)
    form = SetupPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            setup_link_use(
                token=token, password=form.cleaned_data["new_password1"], request=request
            )
        except SetupLinkError as error:
            form.add_error("new_password1", str(error))
        else:
            if request.user.is_authenticated:
                logout(request)
            messages.success(
                request,
                _(
                    "Your password is set. Log in with it; then set up the authenticator app on "
                    "your phone."
                ),
            )
            return redirect("accounts:login")
    return render(
        request, "accounts/setup_password.html", {"form": form, "username": link.user.username}
    )
