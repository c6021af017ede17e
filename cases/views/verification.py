"""Verification and decision: the verifier's checklist and proposal, the case manager's
four-eyes decision, and withdrawing and re-opening a case."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from accounts.permissions import permission_required_logged, refusal_message
from cases import services
from cases.choices import Status
from cases.forms import CheckForm, DecisionForm, ReasonForm, VerifierForm
from cases.models import Case
from cases.rules import SEE_IDENTITY
from cases.services import CaseError
from cases.views.common import _case_or_404, _detail_or_404, _ordered_checks


@permission_required(("cases.view_case", "cases.verify_case"), raise_exception=True)
@never_cache
def case_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """The verifier's page: take the case, record each check, propose a decision."""
    case = _detail_or_404(pk)
    checks = _ordered_checks(case)
    # The notes and the proposal's reason are the team's (cases/rules.py): nobody else's form
    # is filled with them.
    sees = request.user.has_perm(SEE_IDENTITY, case)
    check_forms = {
        check.pk: CheckForm(
            prefix=f"check-{check.pk}",
            initial={"result": check.result, "notes": (check.notes or "") if sees else ""},
        )
        for check in checks
    }
    propose_form = DecisionForm(
        prefix="propose",
        initial={
            "decision": case.proposed_decision or None,
            "reason": case.proposal_reason if sees else "",
        },
    )
    checklist_error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "start":
            try:
                services.case_start_verification(case=case, actor=request.user)
            except (CaseError, PermissionDenied) as error:
                messages.error(request, refusal_message(error))
            else:
                messages.success(request, _("Verification has started."))
            return redirect("cases:verify", pk=case.pk)
        if action == "checks":
            for check in checks:
                check_forms[check.pk] = CheckForm(request.POST, prefix=f"check-{check.pk}")
            if all(form.is_valid() for form in check_forms.values()):
                entries = [
                    (check, form.cleaned_data["result"], form.cleaned_data["notes"])
                    for check, form in ((check, check_forms[check.pk]) for check in checks)
                ]
                try:
                    changed = services.verification_checklist_record(
                        case=case, actor=request.user, entries=entries
                    )
                except (CaseError, PermissionDenied) as error:
                    checklist_error = refusal_message(error)
                else:
                    if changed:
                        messages.success(
                            request,
                            ngettext(
                                "The checklist is saved: %(count)d check changed.",
                                "The checklist is saved: %(count)d checks changed.",
                                len(changed),
                            )
                            % {"count": len(changed)},
                        )
                    else:
                        messages.info(request, _("Nothing was changed in the checklist."))
                    return redirect("cases:verify", pk=case.pk)
            else:
                checklist_error = _("Nothing was saved: correct the checks marked below.")
        elif action == "propose":
            propose_form = DecisionForm(request.POST, prefix="propose")
            if propose_form.is_valid():
                try:
                    services.case_propose_decision(
                        case=case, actor=request.user, **propose_form.cleaned_data
                    )
                except (CaseError, PermissionDenied) as error:
                    propose_form.add_error(None, refusal_message(error))
                else:
                    messages.success(
                        request, _("Your proposal is recorded. A case manager will decide.")
                    )
                    return redirect("cases:detail", pk=case.pk)
        else:
            raise Http404
    return render(
        request,
        "cases/verify.html",
        {
            "case": case,
            "may_reveal": sees,
            "rows": [{"check": check, "form": check_forms[check.pk]} for check in checks],
            "checks": checks,
            "checklist_error": checklist_error,
            "propose_form": propose_form,
        },
    )


@permission_required(("cases.view_case", "cases.decide_case"), raise_exception=True)
@never_cache
def case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The case manager's decision: verified or rejected, with a reason, four-eyes."""
    case = _detail_or_404(pk)
    form = DecisionForm(request.POST or None, initial={"decision": case.proposed_decision or None})
    if request.method == "POST" and form.is_valid():
        try:
            services.case_decide(case=case, actor=request.user, **form.cleaned_data)
        except (CaseError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("cases:detail", pk=case.pk)
    took_part = request.user.pk == case.intake_officer_id or request.user.pk in (
        services.case_verifier_ids(case)
    )
    sees = request.user.has_perm(SEE_IDENTITY, case)
    return render(
        request,
        "cases/decide.html",
        {
            "case": case,
            "may_reveal": sees,
            # The checks' notes and the proposal are what a case manager decides on: shown to
            # the deciding case manager while the case awaits a decision, else to the team only.
            "notes_visible": sees or case.status == Status.VERIFYING,
            "form": form,
            "checks": _ordered_checks(case),
            "took_part": took_part,
        },
    )


def _reason_page(
    request: HttpRequest,
    pk: int,
    *,
    change: Callable[..., Case],
    allowed: Callable[[Case], bool],
    title: str,
    explanation: str,
    not_allowed: str,
    button: str,
    done: str,
) -> HttpResponse:
    case = _case_or_404(pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change(case=case, actor=request.user, reason=form.cleaned_data["reason"])
        except (CaseError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, done)
            return redirect("cases:detail", pk=case.pk)
    return render(
        request,
        "cases/reason_action.html",
        {
            "case": case,
            "form": form,
            "title": title,
            "explanation": explanation,
            "not_allowed": "" if allowed(case) else not_allowed,
            "button": button,
        },
    )


@permission_required(("cases.view_case", "cases.change_case"), raise_exception=True)
def case_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_page(
        request,
        pk,
        change=services.case_withdraw,
        allowed=lambda case: case.is_open,
        title=_("Withdraw the case"),
        explanation=_(
            "Withdraw a case when the person no longer wants our help or cannot be reached. "
            "A case manager can re-open it later."
        ),
        not_allowed=_("Only an open case can be withdrawn."),
        button=_("Withdraw the case"),
        done=_("The case is withdrawn."),
    )


@permission_required(("cases.view_case", "cases.decide_case"), raise_exception=True)
def case_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_page(
        request,
        pk,
        change=services.case_reopen,
        allowed=lambda case: case.status in (Status.REJECTED, Status.WITHDRAWN),
        title=_("Re-open the case"),
        explanation=_(
            "The case goes back to intake; its checks start again and another verification "
            "and decision are needed."
        ),
        not_allowed=_("Only a rejected or withdrawn case can be re-opened."),
        button=_("Re-open the case"),
        done=_("The case is re-opened and back in intake."),
    )


@permission_required_logged("cases.decide_case", action="assign_verifier")
def case_assign_verifier(request: HttpRequest, pk: int) -> HttpResponse:
    """A case manager names the verifier (never themselves); the verifier is alerted. The form
    is on the case's summary page, where a GET goes back to."""
    case = _detail_or_404(pk)
    if request.method != "POST":
        return redirect("cases:detail", pk=case.pk)
    form = VerifierForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a verifier from the list."))
        return redirect("cases:detail", pk=case.pk)
    try:
        services.case_assign_verifier(
            case=case, actor=request.user, verifier=form.cleaned_data["verifier"], request=request
        )
    except (CaseError, PermissionDenied) as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(request, _("The verifier is assigned and has been told."))
    return redirect("cases:detail", pk=case.pk)
