"""The journey tab of a case (stage and emergency flag) and the safety plan."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.permissions import refusal_message
from accounts.services import protected_field_reveal
from cases import services
from cases.forms import EmergencyForm, SafetyPlanForm, StageForm
from cases.services import CaseError, StaleEditError
from cases.views.common import (
    _case_or_404,
    _detail_or_404,
    _has_value,
    _journey_context,
    _render_tab,
)


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def case_journey(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    stage_form = emergency_form = None
    if request.method == "POST":
        if not request.user.has_perm("cases.manage_safety"):
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "stage":
            stage_form = StageForm(request.POST)
            form, change = stage_form, services.case_set_stage
        elif action == "emergency":
            emergency_form = EmergencyForm(request.POST)
            form, change = emergency_form, services.case_set_emergency
        else:
            raise Http404
        if form.is_valid():
            try:
                change(case=case, actor=request.user, **form.cleaned_data)
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The journey is updated."))
                return redirect("cases:journey", pk=case.pk)
    return _render_tab(
        request,
        case,
        "journey",
        **_journey_context(case, stage_form=stage_form, emergency_form=emergency_form),
    )


@permission_required(
    ("cases.view_case", "cases.manage_safety", "accounts.reveal_identity"), raise_exception=True
)
@never_cache
def case_safety_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """The safety plan (shown in clear: logged; for the case's team only)."""
    case = _case_or_404(pk)
    stale = False
    if request.method == "POST":
        form = SafetyPlanForm(request.POST)
        if form.is_valid():
            try:
                services.case_update_safety_plan(case=case, actor=request.user, **form.cleaned_data)
            except StaleEditError as error:
                stale = True
                form.add_error(None, refusal_message(error))
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The safety plan is saved."))
                return redirect("cases:journey", pk=case.pk)
    else:
        plan = ""
        if _has_value(case, "safety_plan"):
            try:
                plan = protected_field_reveal(
                    actor=request.user, obj=case, field_name="safety_plan", request=request
                )
            except PermissionDenied as refusal:
                messages.error(request, refusal_message(refusal))
                return redirect("cases:journey", pk=case.pk)
        form = SafetyPlanForm(
            initial={
                "version": case.version,
                "safety_plan": plan,
            }
        )
    return render(request, "cases/safety_plan.html", {"case": case, "form": form, "stale": stale})
