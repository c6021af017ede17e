"""One-off payments: the list, proposing one for a case (a reward starts from the reward
policy), and approving, rejecting and paying it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import permission_required_logged, refusal_message
from cases.choices import Status as CaseStatus
from cases.models import Case
from payments import selectors, services
from payments.forms import CaseCodeForm, MethodForm, OneOffForm, RejectForm
from payments.models import OneOffKind, OneOffPayment, OneOffStatus
from payments.money import quantum
from payments.services import PaymentError
from payments.views.common import ONE_OFF_READ, _choice, _one_off_or_404, _query_int

ONE_OFF_PAGE_SIZE = 25


@permission_required(ONE_OFF_READ, raise_exception=True)
@require_GET
def one_off_list(request: HttpRequest) -> HttpResponse:
    status = _choice(request.GET.get("status", ""), OneOffStatus.values)
    one_offs = selectors.one_off_list(status=status)
    page = Paginator(one_offs, ONE_OFF_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/one_offs.html",
        {
            "page": page,
            "status": status,
            "status_choices": OneOffStatus.choices,
            "query": f"status={status}&" if status else "",
            "may_propose": request.user.has_perm("payments.add_oneoffpayment"),
        },
    )


def _find_case(request: HttpRequest) -> HttpResponse:
    """The propose page without a case: ask for its code (posted, so it stays out of the URL)."""
    form = CaseCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = Case.objects.filter(code=form.cleaned_data["code"]).only("pk").first()
        if case is None:
            form.add_error("code", _("No case has this code."))
        else:
            return redirect(f"{reverse('payments:one_off_new')}?case={case.pk}")
    return render(request, "payments/one_off_find_case.html", {"form": form})


@permission_required_logged("payments.add_oneoffpayment", action="one_off.propose", log_reads=False)
@never_cache
def one_off_new(request: HttpRequest) -> HttpResponse:
    """Propose a reward, relocation grant or medical payment for a case (?case=<pk>). A reward
    starts from the reward policy for the items the case brought; paying a different amount
    needs a reason."""
    if "case" not in request.GET:
        return _find_case(request)
    case_pk = _query_int(request, "case")
    if case_pk is None:
        raise Http404
    case = get_object_or_404(Case.objects.only("pk", "code", "status"), pk=case_pk)
    proposal_total, proposal_currency, proposal_lines = services.reward_proposal(case=case)
    default_kind = OneOffKind.REWARD if proposal_total else OneOffKind.RELOCATION
    kind = _choice(request.GET.get("kind", ""), OneOffKind.values) or default_kind
    sources = selectors.active_funding_sources()
    if request.method == "POST":
        form = OneOffForm(request.POST, funding_sources=sources)
        if form.is_valid():
            data = form.cleaned_data
            try:
                one_off = services.one_off_propose(
                    case=case,
                    actor=request.user,
                    kind=data["kind"],
                    amount=data["amount"],
                    currency=data["currency"],
                    funding_source=data["funding_source"],
                    description=data["description"],
                    adjustment_reason=data["adjustment_reason"],
                    submission=data["submission"],
                )
            except (PaymentError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                if one_off.repeated:
                    messages.info(request, _("This payment was already proposed: here it is."))
                    return redirect("payments:one_off_detail", pk=one_off.pk)
                messages.success(
                    request,
                    _("The payment for %(code)s is proposed; it needs %(count)d approval(s).")
                    % {"code": case.code, "count": one_off.required_approvals},
                )
                if one_off.approvers_notified is False:
                    messages.warning(
                        request,
                        _(
                            "The approvers could not be e-mailed: the task queue cannot be "
                            "reached. They will still find the payment on their dashboard."
                        ),
                    )
                return redirect("payments:one_off_detail", pk=one_off.pk)
    else:
        initial: dict[str, Any] = {"kind": kind, "currency": "THB"}
        if kind == OneOffKind.REWARD and proposal_total:
            initial.update(
                amount=f"{proposal_total.quantize(quantum(proposal_currency))}",
                currency=proposal_currency,
            )
        source = sources.filter(currency=initial["currency"]).first()
        if source is not None:
            initial["funding_source"] = source.pk
        form = OneOffForm(initial=initial, funding_sources=sources)
    return render(
        request,
        "payments/one_off_new.html",
        {
            "case": case,
            "form": form,
            "kind": kind,
            "kinds": OneOffKind.choices,
            "proposal_total": proposal_total,
            "proposal_currency": proposal_currency,
            "proposal_lines": proposal_lines,
            "case_is_verified": case.status == CaseStatus.VERIFIED,
        },
    )


def _render_one_off(
    request: HttpRequest,
    one_off: OneOffPayment,
    *,
    reject_form: RejectForm | None = None,
    pay_form: MethodForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    approvals = list(one_off.approvals.all())
    proposed = one_off.status == OneOffStatus.PROPOSED
    return render(
        request,
        "payments/one_off_detail.html",
        {
            "one_off": one_off,
            "approvals": approvals,
            "payment": getattr(one_off, "payment", None)
            if one_off.status == OneOffStatus.PAID
            else None,
            "may_decide": proposed and user.has_perm("payments.approve_batch"),
            "is_proposer": one_off.proposed_by_id == user.pk,
            "has_approved": any(approval.approver_id == user.pk for approval in approvals),
            "may_pay": one_off.status == OneOffStatus.APPROVED
            and user.has_perm("payments.record_payout"),
            "reject_form": reject_form or RejectForm(),
            "pay_form": pay_form or MethodForm(),
        },
        status=status,
    )


@permission_required(ONE_OFF_READ, raise_exception=True)
@require_GET
def one_off_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_one_off(request, _one_off_or_404(pk))


@permission_required_logged("payments.approve_batch", action="one_off.approve", log_reads=False)
@require_POST
def one_off_approve(request: HttpRequest, pk: int) -> HttpResponse:
    one_off = _one_off_or_404(pk)
    try:
        one_off = services.one_off_approve(one_off=one_off, actor=request.user)
    except (PaymentError, PermissionDenied) as error:
        messages.error(request, refusal_message(error))
    else:
        if one_off.status == OneOffStatus.APPROVED:
            messages.success(request, _("The payment is approved and can be paid."))
        else:
            messages.success(
                request, _("Your approval is recorded; the payment needs another approver.")
            )
    return redirect("payments:one_off_detail", pk=pk)


@permission_required_logged("payments.approve_batch", action="one_off.reject", log_reads=False)
@require_POST
def one_off_reject(request: HttpRequest, pk: int) -> HttpResponse:
    one_off = _one_off_or_404(pk)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.one_off_reject(
                one_off=one_off, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except (PaymentError, PermissionDenied) as error:
            messages.error(request, refusal_message(error))
        else:
            messages.success(request, _("The payment is rejected."))
        return redirect("payments:one_off_detail", pk=pk)
    return _render_one_off(request, one_off, reject_form=form)


@permission_required_logged("payments.record_payout", action="one_off.pay", log_reads=False)
@require_POST
def one_off_pay(request: HttpRequest, pk: int) -> HttpResponse:
    one_off = _one_off_or_404(pk)
    form = MethodForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.one_off_pay(
                one_off=one_off,
                actor=request.user,
                method=data["method"],
                reference=data["reference"],
                acknowledged=data["acknowledged"],
            )
        except (PaymentError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("The payment is recorded as paid."))
            return redirect("payments:one_off_detail", pk=pk)
    return _render_one_off(request, _one_off_or_404(pk), pay_form=form)
