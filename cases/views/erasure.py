"""Erasure pages: ask for a case's identity to be erased, the list of requests, and the request
page where two approvers approve it (or one rejects it). The pages show the case code and
non-identity facts only; every refusal is a message on the page and a line in the access log."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.permissions import permission_required_logged, refusal_message
from cases import services
from cases.forms import CaseCodeForm, ErasureApproveForm, ErasureRejectForm, ErasureRequestForm
from cases.models import OPEN_ERASURE_STATUSES, Case, ErasureRequest, ErasureStatus
from cases.services import CaseError

VIEW_PERMISSIONS = (
    "cases.view_erasurerequest",
    services.REQUEST_PERMISSION,
    services.APPROVE_PERMISSION,
)
RECENT_LIMIT = 50


def _erasure_or_404(request_pk: int) -> ErasureRequest:
    return get_object_or_404(
        ErasureRequest.objects.select_related(
            "case",
            "case__data_key",
            "case__intake_officer",
            "case__verifier",
            "requested_by",
            "first_approved_by",
            "second_approved_by",
            "rejected_by",
            "cancelled_by",
        ),
        pk=request_pk,
    )


@permission_required_logged(*VIEW_PERMISSIONS)
@never_cache
def erasure_list(request: HttpRequest) -> HttpResponse:
    """Open requests first (those waiting for this user marked), then the latest closed ones.
    A case code typed in the search box leads to the request form for that case."""
    may_request = request.user.has_perm(services.REQUEST_PERMISSION)
    code_form = CaseCodeForm(request.GET if "code" in request.GET else None)
    if may_request and code_form.is_bound and code_form.is_valid():
        case = Case.objects.filter(code=code_form.cleaned_data["code"]).first()
        if case is not None:
            return redirect("cases:erasure_create", pk=case.pk)
        messages.error(request, _("No case has that code."))
        code_form = CaseCodeForm()
    requests = ErasureRequest.objects.select_related(
        "case", "requested_by", "first_approved_by", "second_approved_by"
    )
    waiting_for_me = set(services.awaiting_approval(user=request.user).values_list("pk", flat=True))
    return render(
        request,
        "cases/erasure/list.html",
        {
            "open_requests": requests.filter(status__in=OPEN_ERASURE_STATUSES).order_by(
                "requested_at", "pk"
            ),
            "closed_requests": requests.exclude(status__in=OPEN_ERASURE_STATUSES).order_by(
                "-requested_at", "-pk"
            )[:RECENT_LIMIT],
            "waiting_for_me": waiting_for_me,
            "may_request": may_request,
            "code_form": code_form,
        },
    )


@permission_required_logged(services.REQUEST_PERMISSION)
@never_cache
def erasure_create(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(
        Case.objects.select_related("data_key", "intake_officer", "verifier"), pk=pk
    )
    open_request = ErasureRequest.objects.filter(
        case=case, status__in=OPEN_ERASURE_STATUSES
    ).first()
    form = ErasureRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.erasure_request(
                case=case,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                confirmation=form.cleaned_data["confirmation"],
            )
        except (CaseError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(
                request,
                _("The erasure is requested: two other people must approve it."),
            )
            return redirect("cases:erasure_detail", request_pk=created.pk)
    return render(
        request,
        "cases/erasure/request.html",
        {"case": case, "form": form, "open_request": open_request},
    )


def _detail_page(
    request: HttpRequest,
    erasure: ErasureRequest,
    *,
    approve_form: ErasureApproveForm | None = None,
    reject_form: ErasureRejectForm | None = None,
) -> HttpResponse:
    user = request.user
    waiting = erasure.status == ErasureStatus.PROPOSED
    may_approve_at_all = user.has_perm(services.APPROVE_PERMISSION)
    return render(
        request,
        "cases/erasure/detail.html",
        {
            "erasure": erasure,
            "case": erasure.case,
            "may_approve": waiting
            and may_approve_at_all
            and user.pk not in (erasure.requested_by_id, erasure.first_approved_by_id),
            "is_requester": user.pk == erasure.requested_by_id,
            "has_approved": user.pk == erasure.first_approved_by_id,
            "may_reject": waiting and may_approve_at_all,
            "may_cancel": waiting and user.pk == erasure.requested_by_id,
            "last_approval": erasure.first_approved_by_id is not None,
            "approve_form": approve_form or ErasureApproveForm(),
            "reject_form": reject_form or ErasureRejectForm(),
        },
    )


@permission_required_logged(*VIEW_PERMISSIONS)
@never_cache
def erasure_detail(request: HttpRequest, request_pk: int) -> HttpResponse:
    return _detail_page(request, _erasure_or_404(request_pk))


@permission_required_logged(services.APPROVE_PERMISSION)
@never_cache
def erasure_approve(request: HttpRequest, request_pk: int) -> HttpResponse:
    erasure = _erasure_or_404(request_pk)
    if request.method != "POST":
        return redirect("cases:erasure_detail", request_pk=erasure.pk)
    form = ErasureApproveForm(request.POST)
    if form.is_valid():
        try:
            erasure = services.erasure_approve(
                erasure=erasure,
                actor=request.user,
                confirmation=form.cleaned_data["confirmation"],
                request=request,
            )
        except (CaseError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            if erasure.status == ErasureStatus.CARRIED_OUT:
                messages.success(
                    request,
                    _("The identity of case %(code)s is erased.") % {"code": erasure.case.code},
                )
            else:
                messages.success(
                    request, _("Your approval is recorded: a second person must approve.")
                )
            return redirect("cases:erasure_detail", request_pk=erasure.pk)
    return _detail_page(request, _erasure_or_404(request_pk), approve_form=form)


@permission_required_logged(services.APPROVE_PERMISSION)
@never_cache
def erasure_reject(request: HttpRequest, request_pk: int) -> HttpResponse:
    erasure = _erasure_or_404(request_pk)
    if request.method != "POST":
        return redirect("cases:erasure_detail", request_pk=erasure.pk)
    form = ErasureRejectForm(request.POST)
    if form.is_valid():
        try:
            services.erasure_reject(
                erasure=erasure, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except (CaseError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("The erasure is rejected; nothing was erased."))
            return redirect("cases:erasure_detail", request_pk=erasure.pk)
    return _detail_page(request, _erasure_or_404(request_pk), reject_form=form)


@permission_required_logged(services.REQUEST_PERMISSION)
@never_cache
def erasure_cancel(request: HttpRequest, request_pk: int) -> HttpResponse:
    erasure = _erasure_or_404(request_pk)
    if request.method == "POST":
        try:
            services.erasure_cancel(erasure=erasure, actor=request.user)
        except (CaseError, PermissionDenied) as error:
            messages.error(request, refusal_message(error))
        else:
            messages.success(request, _("Your erasure request is cancelled."))
    return redirect("cases:erasure_detail", request_pk=erasure.pk)
