"""The payment pages: stipend plans of a case, monthly batches (run, approval, payouts, closing),
one-off payments, the ledger, the finance dashboard and the batch exports. Views parse forms and
call one service or selector; every refusal from a service is shown as a message on the page,
never as an error page. People appear by case code only."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import parse_id
from accounts.permissions import permission_required_logged, refusal_message, refuse
from cases.choices import Status as CaseStatus
from cases.models import Case
from operations.queueing import queue_task
from payments import exports, selectors, services
from payments.charts import paid_chart_svg, paid_description
from payments.forms import (
    CaseCodeForm,
    LedgerFilterForm,
    MethodForm,
    OneOffForm,
    PlanForm,
    RecordForm,
    RejectForm,
    RunForm,
)
from payments.models import (
    BatchStatus,
    DisbursementBatch,
    OneOffKind,
    OneOffPayment,
    OneOffStatus,
    Payment,
    PaymentStatus,
    PlanStatus,
    StipendPlan,
)
from payments.money import quantum
from payments.services import PaymentError
from payments.tasks import run_monthly_disbursement
from payments.templatetags.payments_money import format_money

logger = logging.getLogger(__name__)

BATCH_PAGE_SIZE = 25
LINE_PAGE_SIZE = 100
ONE_OFF_PAGE_SIZE = 25
LEDGER_PAGE_SIZE = 50
DASHBOARD_MONTHS = 12

# The plan actions of the plans page: the status each button asks for.
PLAN_ACTIONS = {
    "pause": PlanStatus.PAUSED,
    "resume": PlanStatus.ACTIVE,
    "end": PlanStatus.ENDED,
}

OPEN_BATCH = (BatchStatus.APPROVED, BatchStatus.DISBURSING)


# --- helpers ---------------------------------------------------------------------------------


def _batch_or_404(pk: int) -> DisbursementBatch:
    try:
        return selectors.batch_detail(pk=pk)
    except DisbursementBatch.DoesNotExist as error:
        raise Http404 from error


def _one_off_or_404(pk: int) -> OneOffPayment:
    try:
        return selectors.one_off_detail(pk=pk)
    except OneOffPayment.DoesNotExist as error:
        raise Http404 from error


def _query_int(request: HttpRequest, name: str) -> int | None:
    return parse_id(request.GET.get(name, ""))


def _choice(value: str, choices: list[str]) -> str:
    return value if value in choices else ""


# --- stipend plans of a case -------------------------------------------------------------------


@permission_required_logged("payments.view_stipendplan", action="plan.create", log_reads=False)
@never_cache
def case_plans(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's plans with their monthly lines and one-off payments; a finance officer adds a
    plan here. Read-only for everyone else."""
    case = get_object_or_404(Case.objects.only("pk", "code", "status"), pk=pk)
    may_add = request.user.has_perm("payments.add_stipendplan")
    sources = selectors.active_funding_sources()
    form = PlanForm(funding_sources=sources) if may_add else None
    if request.method == "POST":
        if not may_add:
            refuse(request, ("payments.add_stipendplan",), "plan.create")
        form = PlanForm(request.POST, funding_sources=sources)
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = services.plan_create(
                    case=case,
                    actor=request.user,
                    amount=data["amount"],
                    currency=data["currency"],
                    start_date=data["start_date"],
                    end_date=data["end_date"],
                    funding_source=data["funding_source"],
                )
            except (PaymentError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(
                    request,
                    _("The stipend plan of %(code)s is saved: %(amount)s a month.")
                    % {"code": case.code, "amount": format_money(plan.amount, plan.currency)},
                )
                return redirect("payments:case_plans", pk=case.pk)
    may_see_payments = request.user.has_perm("payments.view_payment")
    plans = selectors.case_plans(case=case, with_payments=may_see_payments)
    has_open_plan = any(plan.status != PlanStatus.ENDED for plan in plans)
    is_verified = case.status == CaseStatus.VERIFIED
    return render(
        request,
        "payments/case_plans.html",
        {
            "case": case,
            "plans": plans,
            "has_open_plan": has_open_plan,
            # A refused form is shown again with its errors, whatever the state of the case.
            "show_form": form is not None
            and (form.is_bound or (is_verified and not has_open_plan)),
            "one_offs": selectors.case_one_offs(case=case)
            if request.user.has_perm("payments.view_oneoffpayment")
            else None,
            "may_see_payments": may_see_payments,
            "may_change": request.user.has_perm("payments.change_stipendplan"),
            "may_propose": request.user.has_perm("payments.add_oneoffpayment"),
            "form": form,
            "case_is_verified": is_verified,
        },
    )


@permission_required_logged("payments.change_stipendplan", action="plan.status", log_reads=False)
@require_POST
def plan_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause, resume or end a plan (the buttons of the plans page)."""
    plan = get_object_or_404(StipendPlan.objects.select_related("case"), pk=pk)
    status = PLAN_ACTIONS.get(request.POST.get("action", ""))
    if status is None:
        messages.error(request, _("Choose whether to pause, resume or end the plan."))
    else:
        try:
            plan = services.plan_set_status(plan=plan, actor=request.user, status=status)
        except (PaymentError, PermissionDenied) as error:
            messages.error(request, refusal_message(error))
        else:
            messages.success(
                request,
                _("The plan of %(code)s is now %(status)s.")
                % {"code": plan.case.code, "status": plan.get_status_display().lower()},
            )
    return redirect("payments:case_plans", pk=plan.case_id)


# --- batches -----------------------------------------------------------------------------------


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


def queue_run(*, period: str, actor_id: int) -> bool:
    """Queue the monthly run once the request's transaction (if any) has committed. False when
    the broker cannot be reached: nothing was queued, and nothing was changed."""
    queued: list[bool] = []
    transaction.on_commit(
        lambda: queued.append(
            queue_task(run_monthly_disbursement, period=period, actor_id=actor_id)
        )
    )
    return all(queued)


@permission_required_logged("payments.run_disbursement", action="run.start", log_reads=False)
@never_cache
def run_month(request: HttpRequest) -> HttpResponse:
    """A finance officer starts the month's run; the worker creates the draft batches."""
    form = RunForm(request.POST or None)
    broker_down = False
    if request.method == "POST" and form.is_valid():
        period = form.cleaned_data["period"].strftime("%Y-%m")
        if queue_run(period=period, actor_id=request.user.pk):
            messages.success(
                request,
                _("The run for %(period)s has started; refresh in a moment.") % {"period": period},
            )
            return redirect("payments:batches")
        broker_down = True
        form.add_error(
            None,
            _(
                "The run for %(period)s could not be started: the task queue cannot be reached. "
                "Nothing was changed. Try again in a few minutes, or ask an administrator to "
                "check the worker and Redis."
            )
            % {"period": period},
        )
    return render(
        request,
        "payments/run.html",
        {"form": form, "recent": selectors.with_status_totals(selectors.batch_list()[:6])},
        status=503 if broker_down else 200,
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


# --- exports -----------------------------------------------------------------------------------


def _download(export: exports.Export) -> HttpResponse:
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@permission_required("payments.view_disbursementbatch", raise_exception=True)
@never_cache
@require_GET
def batch_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    return _download(exports.batch_pdf(batch=batch, actor=request.user, request=request))


@permission_required("payments.view_disbursementbatch", raise_exception=True)
@never_cache
@require_GET
def batch_csv(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    return _download(exports.batch_csv(batch=batch, actor=request.user, request=request))


@permission_required("payments.view_disbursementbatch", raise_exception=True)
@never_cache
@require_GET
def batch_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    return _download(exports.batch_xlsx(batch=batch, actor=request.user, request=request))


# --- one-off payments ---------------------------------------------------------------------------

ONE_OFF_READ = ("payments.view_oneoffpayment", "payments.view_payment")


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
                )
            except (PaymentError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
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


# --- ledger and dashboard ----------------------------------------------------------------------


@permission_required("payments.view_finance_reports", raise_exception=True)
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """Entries filtered by funding source, currency and month (when the money moved), and the
    totals of each account per currency and funding source."""
    form = LedgerFilterForm(request.GET or None)
    filters = selectors.LedgerFilters()
    query = ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.LedgerFilters(
            funding_source=data["funding_source"],
            currency=data["currency"],
            month=data["month"],
        )
        parts = []
        if data["funding_source"]:
            parts.append(f"funding_source={data['funding_source'].pk}")
        if data["currency"]:
            parts.append(f"currency={data['currency']}")
        if data["month"]:
            parts.append(f"month={data['month']:%Y-%m}")
        query = "".join(f"{part}&" for part in parts)
    entries = selectors.ledger_entries(filters=filters)
    page = Paginator(entries, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    totals = selectors.ledger_totals(filters=filters)
    return render(
        request,
        "payments/ledger.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "totals": totals,
            "currency_totals": selectors.ledger_currency_totals(totals),
            "filtered": bool(query),
            "may_see_batches": request.user.has_perm("payments.view_disbursementbatch"),
        },
    )


@permission_required("payments.view_finance_reports", raise_exception=True)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    rows, currencies = selectors.paid_per_month(months=DASHBOARD_MONTHS)
    charts = [
        {
            "currency": currency,
            "svg": paid_chart_svg(rows, currency),
            "description": paid_description(rows, currency),
            "total": sum((row.by_currency[currency] for row in rows), start=selectors.ZERO),
        }
        for currency in currencies
    ]
    user = request.user
    return render(
        request,
        "payments/dashboard.html",
        {
            "rows": [
                {
                    "month": row.month,
                    "amounts": [(row.by_currency[currency], currency) for currency in currencies],
                }
                for row in rows
            ],
            "currencies": currencies,
            "charts": charts,
            "batches": selectors.current_batches(),
            "awaiting": list(selectors.one_offs_awaiting_approval()[:50]),
            "may_see_batches": user.has_perm("payments.view_disbursementbatch"),
            "may_see_one_offs": all(user.has_perm(permission) for permission in ONE_OFF_READ),
            "today": timezone.localdate(),
        },
    )
