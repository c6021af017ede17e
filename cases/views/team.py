"""A case's team (its verifier, case manager and added staff), breaking the glass to open a case
one is not on, and the review of each break-the-glass."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.permissions import refusal_message
from cases import selectors, services
from cases.choices import Status
from cases.forms import (
    BreakGlassForm,
    CaseManagerForm,
    GlassReviewForm,
    TeamMemberForm,
    VerifierForm,
)
from cases.models import BreakGlass, CaseTeamMember
from cases.rules import may_reveal_at_all
from cases.services import CaseError
from cases.views.common import _case_or_404, _posted_int, _render_tab


def _team_forms(request: HttpRequest, case, bound: dict | None = None) -> dict:
    """The forms a case manager uses on the team page (none for others)."""
    if not request.user.has_perm("cases.decide_case"):
        return {}
    bound = bound or {}
    actor = request.user
    return {
        "verifier_form": bound.get("verifier")
        or (
            VerifierForm(initial={"verifier": case.verifier_id})
            if case.status == Status.INTAKE
            else None
        ),
        "case_manager_form": bound.get("case_manager")
        or CaseManagerForm(actor=actor, initial={"case_manager": case.case_manager_id}),
        "member_form": bound.get("member") or TeamMemberForm(actor=actor),
    }


def _change_team(request: HttpRequest, case) -> tuple[str, object | None]:
    """Carry out one posted change; (success message or "", the bound form when invalid)."""
    action, actor = request.POST.get("action"), request.user
    if action == "verifier":
        form = VerifierForm(request.POST)
        if not form.is_valid():
            return "", form
        services.case_assign_verifier(
            case=case, actor=actor, verifier=form.cleaned_data["verifier"], request=request
        )
        return _("The verifier is assigned and has been told."), None
    if action == "case_manager":
        form = CaseManagerForm(request.POST, actor=actor)
        if not form.is_valid():
            return "", form
        services.case_assign_case_manager(
            case=case,
            actor=actor,
            case_manager=form.cleaned_data["case_manager"],
            request=request,
        )
        return _("The case manager is changed and has been told."), None
    if action == "add":
        form = TeamMemberForm(request.POST, actor=actor)
        if not form.is_valid():
            return "", form
        services.case_team_add(
            case=case, actor=actor, user=form.cleaned_data["user"], request=request
        )
        return _("%(user)s is on the case's team.") % {"user": form.cleaned_data["user"]}, None
    if action == "remove":
        member = get_object_or_404(CaseTeamMember, pk=_posted_int(request, "member"), case=case)
        services.case_team_remove(case=case, actor=actor, member=member, request=request)
        return _("%(user)s is off the case's team.") % {"user": member.user}, None
    raise Http404


@permission_required("cases.view_case", raise_exception=True)
def case_team(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    bound: dict = {}
    if request.method == "POST":
        if not request.user.has_perm("cases.decide_case"):
            raise PermissionDenied
        try:
            done, invalid = _change_team(request, case)
        except (CaseError, PermissionDenied) as error:
            messages.error(request, refusal_message(error))
            return redirect("cases:team", pk=case.pk)
        if invalid is None:
            messages.success(request, done)
            return redirect("cases:team", pk=case.pk)
        bound[request.POST.get("action", "")] = invalid
        messages.error(request, _("Choose someone from the list."))
    return _render_tab(
        request,
        case,
        "team",
        members=CaseTeamMember.objects.filter(case=case).select_related("user", "added_by"),
        glass_breaks=BreakGlass.objects.filter(case=case).select_related("user", "reviewed_by")[
            :20
        ],
        **_team_forms(request, case, bound),
    )


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def break_glass(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a case one is not on, for a limited time, with a reason: alerted and reviewed."""
    case = _case_or_404(pk)
    if not may_reveal_at_all(request.user):
        raise PermissionDenied
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            use = services.break_glass_open(
                case=case, actor=request.user, request=request, **form.cleaned_data
            )
        except (CaseError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.warning(
                request,
                _(
                    "Case %(code)s is open to you until %(time)s. The case manager and the "
                    "administrators have been told; someone will review why."
                )
                % {"code": case.code, "time": timezone.localtime(use.expires_at).strftime("%H:%M")},
            )
            return redirect("cases:identity", pk=case.pk)
    return render(request, "cases/break_glass.html", {"case": case, "form": form})


@permission_required("cases.review_break_glass", raise_exception=True)
def break_glass_list(request: HttpRequest) -> HttpResponse:
    """Uses waiting for this person's review, each with its review form."""
    bound, bound_pk = None, None
    if request.method == "POST":
        use = get_object_or_404(
            BreakGlass.objects.select_related("case", "user"), pk=_posted_int(request, "use")
        )
        bound_pk = use.pk
        bound = GlassReviewForm(request.POST, prefix=f"use-{use.pk}")
        if bound.is_valid():
            try:
                services.break_glass_review(
                    use=use, actor=request.user, request=request, **bound.cleaned_data
                )
            except (CaseError, PermissionDenied) as error:
                bound.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The review is recorded."))
                return redirect("cases:break_glass_list")
        if bound.non_field_errors():
            messages.error(request, " ".join(bound.non_field_errors()))
    rows = [
        {
            "use": use,
            "form": bound if use.pk == bound_pk else GlassReviewForm(prefix=f"use-{use.pk}"),
        }
        for use in selectors.glass_awaiting_review(user=request.user)[:100]
    ]
    recent = (
        BreakGlass.objects.filter(reviewed_at__isnull=False)
        .select_related("case", "user", "reviewed_by")
        .order_by("-reviewed_at")[:20]
    )
    return render(request, "cases/break_glass_list.html", {"rows": rows, "recent": recent})
