"""The stipend plans of a case: the plans page (where a finance officer adds a plan), its
pause, resume and end buttons, where a plan is paid out to, and the verified cases that have
no plan yet."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import permission_required_logged, refusal_message, refuse
from cases.choices import Status as CaseStatus
from cases.models import Case
from payments import selectors, services
from payments.forms import PayoutForm, PlanForm
from payments.models import PaymentMethod, PlanStatus, StipendPlan
from payments.services import PaymentError
from payments.templatetags.payments_money import format_money

# The plan actions of the plans page: the status each button asks for.
PLAN_ACTIONS = {
    "pause": PlanStatus.PAUSED,
    "resume": PlanStatus.ACTIVE,
    "end": PlanStatus.ENDED,
}


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
                    payout_method=data["payout_method"],
                    payout_account=data["payout_account"],
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
            "payout_methods": PaymentMethod.choices,
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


@permission_required_logged("payments.change_stipendplan", action="plan.payout", log_reads=False)
@require_POST
def plan_payout(request: HttpRequest, pk: int) -> HttpResponse:
    """Where a plan's stipend goes: the method, and the wallet or account (never shown back)."""
    plan = get_object_or_404(StipendPlan.objects.select_related("case"), pk=pk)
    form = PayoutForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            services.plan_set_payout(
                plan=plan,
                actor=request.user,
                payout_method=form.cleaned_data["payout_method"],
                payout_account=form.cleaned_data["payout_account"],
            )
        except (PaymentError, PermissionDenied) as error:
            messages.error(request, refusal_message(error))
        else:
            messages.success(
                request,
                _("Where the plan of %(code)s is paid is saved.") % {"code": plan.case.code},
            )
            months = services.approved_payouts_unchanged(plan=plan)
            if months:
                messages.info(
                    request,
                    ngettext(
                        "The batch of %(months)s is already approved: it still pays where it "
                        "was approved to pay. The change applies from the next batch.",
                        "The batches of %(months)s are already approved: they still pay where "
                        "they were approved to pay. The change applies from the next batch.",
                        len(months),
                    )
                    % {
                        "months": ", ".join(
                            date_format(month, "YEAR_MONTH_FORMAT") for month in months
                        )
                    },
                )
    return redirect("payments:case_plans", pk=plan.case_id)


CASES_PAGE_SIZE = 50


@permission_required("payments.add_stipendplan", raise_exception=True)
@require_GET
def cases_without_plan(request: HttpRequest) -> HttpResponse:
    """Verified cases that have no stipend plan yet: case codes, each a link to add one."""
    page = Paginator(selectors.cases_without_plan(), CASES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "payments/cases_without_plan.html", {"page": page, "query": ""})
