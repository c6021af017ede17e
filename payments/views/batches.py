"""The monthly batches: the list, a batch with its lines (and, for the officer paying it out,
their payees), approving or rejecting a draft with what changed since last month, and carrying
a line forward. Recording and closing are in payouts.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import permission_required_logged, refusal_message
from accounts.services import record_reveal
from payments import selectors, services
from payments.forms import RejectForm
from payments.models import BatchStatus, Payment, PaymentStatus
from payments.rules import PAYOUT_PERMISSION, in_payout_window
from payments.services import PaymentError
from payments.views.common import _batch_or_404, _choice

BATCH_PAGE_SIZE = 25
LINE_PAGE_SIZE = 100

OPEN_BATCH = (BatchStatus.APPROVED, BatchStatus.DISBURSING)


@permission_required("payments.view_disbursementbatch", raise_exception=True)
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.batch_list(), BATCH_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.with_status_totals(page.object_list)
    return render(
        request,
        "payments/batches.html",
        {"page": page, "query": "", "may_run": request.user.has_perm("payments.run_disbursement")},
    )


@permission_required("payments.view_disbursementbatch", raise_exception=True)
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(pk)
    status = _choice(request.GET.get("status", ""), PaymentStatus.values)
    lines = selectors.batch_lines(batch=batch, status=status)
    page = Paginator(lines, LINE_PAGE_SIZE).get_page(request.GET.get("page"))
    user = request.user
    may_record = user.has_perm("payments.record_payout")
    pays_out = in_payout_window(user, batch)
    show_payees = False
    if pays_out and request.GET.get("payees") == "1":
        # The names and wallets of this page's lines: a logged reveal, within the budget.
        try:
            record_reveal(
                actor=user,
                obj=batch,
                field_name="payees",
                request=request,
                permission=PAYOUT_PERMISSION,
                detail={"cases": sorted(line.case.code for line in page.object_list)},
            )
        except PermissionDenied as error:
            messages.error(request, refusal_message(error))
        else:
            page.object_list = selectors.payee_lines(lines=list(page.object_list))
            show_payees = True
    return render(
        request,
        "payments/batch_detail.html",
        {
            "batch": batch,
            "page": page,
            "status": status,
            "status_choices": PaymentStatus.choices,
            "query": (f"status={status}&" if status else "") + ("payees=1&" if show_payees else ""),
            "pays_out": pays_out,
            "show_payees": show_payees,
            "may_take": may_record
            and batch.status == BatchStatus.APPROVED
            and batch.approved_by_id != user.pk,
            "ledger_balance": selectors.batch_ledger_balance(batch=batch),
            "is_committed": batch.status
            in (BatchStatus.APPROVED, BatchStatus.DISBURSING, BatchStatus.CLOSED),
            "may_approve": user.has_perm("payments.approve_batch")
            and batch.status == BatchStatus.DRAFT,
            "may_record": may_record and batch.status in OPEN_BATCH,
            "may_carry": may_record,
            "may_close": may_record and batch.status in OPEN_BATCH,
            "pending_count": next(
                (total.count for total in batch.status_totals if total.status == "pending"), 0
            ),
        },
    )


@permission_required_logged("payments.approve_batch", action="batch.approve", log_reads=False)
@never_cache
def batch_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or reject a draft batch; never one's own (the service says so)."""
    batch = _batch_or_404(pk)
    reject_form = RejectForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "approve":
                batch = services.batch_approve(
                    batch=batch,
                    actor=request.user,
                    # Missing from a form of another page: not what this page showed.
                    payouts_seen=request.POST.get("payouts_seen", "not sent"),
                )
                messages.success(
                    request,
                    _("Batch %(batch)s is approved: %(lines)d lines are committed.")
                    % {"batch": batch.label, "lines": batch.line_count},
                )
                return redirect("payments:batch_detail", pk=batch.pk)
            if action == "reject":
                reject_form = RejectForm(request.POST)
                if reject_form.is_valid():
                    batch = services.batch_reject(
                        batch=batch, actor=request.user, reason=reject_form.cleaned_data["reason"]
                    )
                    messages.success(
                        request,
                        _("Batch %(batch)s is rejected; the month can be run again.")
                        % {"batch": batch.label},
                    )
                    return redirect("payments:batch_detail", pk=batch.pk)
            else:
                messages.error(request, _("Choose whether to approve or reject the batch."))
        except (PaymentError, PermissionDenied) as error:
            messages.error(request, refusal_message(error))
        batch = _batch_or_404(pk)
    return render(
        request,
        "payments/batch_approve.html",
        {
            "batch": batch,
            "reject_form": reject_form,
            "is_draft": batch.status == BatchStatus.DRAFT,
            "changes": selectors.batch_changes(batch=batch),
            "is_preparer": services.is_preparer(batch, request.user),
            "payouts_set_by_you": selectors.payouts_set_by(batch=batch, user=request.user),
            "payouts_seen": selectors.payouts_seen(batch=batch),
        },
    )


@permission_required_logged(
    "payments.record_payout", action="payment.carry_forward", log_reads=False
)
@require_POST
def carry_forward(request: HttpRequest, pk: int) -> HttpResponse:
    line = get_object_or_404(Payment.objects.select_related("case"), pk=pk, batch__isnull=False)
    try:
        services.payment_carry_forward(payment=line, actor=request.user)
    except (PaymentError, PermissionDenied) as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(
            request,
            _("The line of %(code)s will be paid again in next month's run.")
            % {"code": line.case.code},
        )
    return redirect("payments:batch_detail", pk=line.batch_id)
