"""The monthly batches: the list, a batch with its lines, approving or rejecting a draft,
recording payouts, carrying a line forward and closing a batch."""

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

from accounts.forms import parse_id
from accounts.permissions import permission_required_logged, refusal_message
from payments import selectors, services
from payments.forms import RecordForm, RejectForm
from payments.models import BatchStatus, DisbursementBatch, Payment, PaymentStatus
from payments.services import PaymentError
from payments.views.common import _batch_or_404, _choice, _query_int

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
    return render(
        request,
        "payments/batch_detail.html",
        {
            "batch": batch,
            "page": page,
            "status": status,
            "status_choices": PaymentStatus.choices,
            "query": f"status={status}&" if status else "",
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
                batch = services.batch_approve(batch=batch, actor=request.user)
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
            "is_preparer": batch.prepared_by_id == request.user.pk,
        },
    )


@permission_required_logged("payments.record_payout", action="payment.record", log_reads=False)
@never_cache
def record_payouts(request: HttpRequest, pk: int) -> HttpResponse:
    """The outcome of pending lines: one line, or many at once with the same outcome."""
    batch = _batch_or_404(pk)
    pending = selectors.pending_lines(batch=batch)
    page = Paginator(pending, LINE_PAGE_SIZE).get_page(request.GET.get("page"))
    if request.method == "POST":
        posted = [value for value in request.POST.getlist("lines") if parse_id(value) is not None]
        form = RecordForm(request.POST, line_choices=[(int(value), value) for value in posted])
        if form.is_valid():
            chosen = form.cleaned_data["lines"]
            lines = list(Payment.objects.filter(batch=batch, pk__in=chosen))
            if len(lines) != len(set(chosen)):
                form.add_error(None, _("Some of the chosen lines are not in this batch."))
            else:
                data = form.cleaned_data
                try:
                    recorded = services.payments_record(
                        payments=lines,
                        actor=request.user,
                        outcome=data["outcome"],
                        method=data["method"],
                        reference=data["reference"],
                        acknowledged=data["acknowledged"],
                    )
                except (PaymentError, PermissionDenied) as error:
                    form.add_error(None, refusal_message(error))
                else:
                    messages.success(
                        request,
                        _("%(count)d lines recorded as %(outcome)s.")
                        % {
                            "count": len(recorded),
                            "outcome": PaymentStatus(data["outcome"]).label.lower(),
                        },
                    )
                    if pending.exists():
                        return redirect("payments:record", pk=batch.pk)
                    return redirect("payments:batch_detail", pk=batch.pk)
        selected = {int(value) for value in posted}
    else:
        line = _query_int(request, "line")
        form = RecordForm(line_choices=[])
        selected = {line} if line else set()
    return render(
        request,
        "payments/record.html",
        {
            "batch": batch,
            "form": form,
            "page": page,
            "query": "",
            "selected": selected,
            "is_open": batch.status in OPEN_BATCH,
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


@permission_required_logged("payments.record_payout", action="batch.close", log_reads=False)
@require_POST
def batch_close(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    try:
        batch = services.batch_close(batch=batch, actor=request.user)
    except (PaymentError, PermissionDenied) as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(request, _("Batch %(batch)s is closed.") % {"batch": batch.label})
    return redirect("payments:batch_detail", pk=batch.pk)
