"""The case and its tabs (summary, identity, family, items, checks, evidence, referrals, notes),
revealing a protected value, and downloading an evidence file."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.permissions import refusal_message
from accounts.services import protected_field_reveal
from cases import selectors, services
from cases.choices import ReferralStatus, Status
from cases.forms import EvidenceForm, NoteForm, ReferralForm, ReferralStatusForm, VerifierForm
from cases.models import Case, Evidence, FamilyMember, Partner, Referral
from cases.services import CaseError
from cases.views.common import (
    IDENTITY_FIELDS,
    REVEALABLE_CASE_FIELDS,
    _case_or_404,
    _case_protected,
    _detail_or_404,
    _edit_refusal,
    _family_rows,
    _is_case_worker,
    _journey_context,
    _member_protected,
    _ordered_checks,
    _posted_int,
    _render_tab,
)
from protection.keys import ProtectedValueError

REVEALABLE_FAMILY_FIELDS = frozenset({"name", "whereabouts"})
EVIDENCE_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@permission_required("cases.view_case", raise_exception=True)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        case = selectors.case_summary(pk=pk)
    except Case.DoesNotExist as error:
        raise Http404 from error
    user = request.user
    return _render_tab(
        request,
        case,
        "summary",
        may_edit=user.has_perm("cases.change_case") and not _edit_refusal(case, user),
        may_withdraw=user.has_perm("cases.change_case") and case.is_open,
        may_reopen=user.has_perm("cases.decide_case")
        and case.status in (Status.REJECTED, Status.WITHDRAWN),
        verifier_form=VerifierForm(initial={"verifier": case.verifier_id})
        if user.has_perm("cases.decide_case") and case.status == Status.INTAKE
        else None,
        not_duplicates=selectors.not_duplicates_of(case, reader=user),
    )


def _identity_rows(case: Case, revealed: dict | None = None) -> list[dict[str, Any]]:
    return [_case_protected(case, name, revealed) for name in IDENTITY_FIELDS]


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def case_identity(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    return _render_tab(request, case, "identity", rows=_identity_rows(case))


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def case_family(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    return _render_tab(request, case, "family", rows=_family_rows(case.family_members.all()))


@permission_required("cases.view_case", raise_exception=True)
def case_items(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    return _render_tab(request, case, "items", items=case.items.all())


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def case_checks(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    return _render_tab(request, case, "checks", checks=_ordered_checks(case))


def _may_add_evidence(user) -> bool:
    return user.has_perm("cases.change_case") or user.has_perm("cases.verify_case")


@permission_required("cases.view_case", raise_exception=True)
def case_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    form = EvidenceForm()
    if request.method == "POST":
        if not _may_add_evidence(request.user):
            raise PermissionDenied
        form = EvidenceForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.evidence_add(
                    case=case,
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                )
            except (CaseError, PermissionDenied) as error:
                form.add_error("file", refusal_message(error))
            else:
                messages.success(request, _("The file is stored, encrypted."))
                return redirect("cases:evidence", pk=case.pk)
    return _render_tab(
        request,
        case,
        "evidence",
        files=case.evidence.all(),
        form=form,
        may_add=_may_add_evidence(request.user) and case.is_open,
        limit_megabytes=settings.HAVEN_EVIDENCE_MAX_BYTES // (1024 * 1024),
    )


def _referral_rows(referrals) -> list[dict]:
    """Each referral with a form offering only the statuses it can move to."""
    rows = []
    for referral in referrals:
        next_statuses = services.REFERRAL_TRANSITIONS.get(referral.status, set())
        choices = [
            (value, label) for value, label in ReferralStatus.choices if value in next_statuses
        ]
        form = (
            ReferralStatusForm(choices=choices, prefix=f"referral-{referral.pk}")
            if choices
            else None
        )
        rows.append({"referral": referral, "form": form})
    return rows


@permission_required("cases.view_case", raise_exception=True)
def case_referrals(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    form = ReferralForm()
    if request.method == "POST":
        if not request.user.has_perm("cases.manage_safety"):
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "create":
            form = ReferralForm(request.POST)
            if form.is_valid():
                try:
                    services.referral_create(case=case, actor=request.user, **form.cleaned_data)
                except (CaseError, PermissionDenied) as error:
                    form.add_error(None, refusal_message(error))
                else:
                    messages.success(request, _("The referral is recorded."))
                    return redirect("cases:referrals", pk=case.pk)
        elif action == "status":
            referral = get_object_or_404(
                Referral, pk=_posted_int(request, "referral"), case_id=case.pk
            )
            prefix = f"referral-{referral.pk}"
            status_form = ReferralStatusForm(
                request.POST, choices=ReferralStatus.choices, prefix=prefix
            )
            if status_form.is_valid():
                try:
                    services.referral_set_status(
                        referral=referral,
                        actor=request.user,
                        status=status_form.cleaned_data["status"],
                    )
                except (CaseError, PermissionDenied) as error:
                    messages.error(request, refusal_message(error))
                else:
                    messages.success(request, _("The referral status is changed."))
            else:
                messages.error(request, _("Choose the new status of the referral."))
            return redirect("cases:referrals", pk=case.pk)
        else:
            raise Http404
    return _render_tab(
        request,
        case,
        "referrals",
        form=form,
        rows=_referral_rows(case.referrals.select_related("partner")),
        partners_in_use=Partner.objects.filter(active=True).exists(),
    )


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def case_notes(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    form = NoteForm()
    if request.method == "POST":
        if not _is_case_worker(request.user):
            raise PermissionDenied
        form = NoteForm(request.POST)
        if form.is_valid():
            try:
                services.case_note_add(
                    case=case, actor=request.user, text=form.cleaned_data["text"]
                )
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The note is added."))
                return redirect("cases:notes", pk=case.pk)
    notes = case.notes.all()
    return _render_tab(request, case, "notes", notes=notes, note_count=len(notes), form=form)


def _refused(
    request: HttpRequest, refusal: PermissionDenied, protected: dict, tab: str, pk: int
) -> HttpResponse:
    """A reveal refused (not on the team, over the day's budget): said where it was asked."""
    if request.htmx:
        return render(
            request,
            "cases/partials/protected_value.html",
            {"protected": {**protected, "refusal": refusal_message(refusal)}, "may_reveal": False},
        )
    messages.error(request, refusal_message(refusal))
    return redirect(tab, pk=pk)


@permission_required(("cases.view_case", "accounts.reveal_identity"), raise_exception=True)
@never_cache
def case_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Show one protected field in clear, logged. POST only: a GET goes back to the tab."""
    if field not in REVEALABLE_CASE_FIELDS:
        raise Http404
    tab = "journey" if field == "safety_plan" else "identity"
    if request.method != "POST":
        return redirect(f"cases:{tab}", pk=pk)
    case = _case_or_404(pk)
    try:
        value = protected_field_reveal(
            actor=request.user, obj=case, field_name=field, request=request
        )
    except PermissionDenied as refusal:
        return _refused(request, refusal, _case_protected(case, field), f"cases:{tab}", pk)
    revealed = {field: value}
    if request.htmx:
        return render(
            request,
            "cases/partials/protected_value.html",
            {"protected": _case_protected(case, field, revealed), "may_reveal": True},
        )
    # Without JavaScript: the whole tab again, with this one value shown.
    case = _detail_or_404(pk)
    if tab == "journey":
        return _render_tab(request, case, "journey", **_journey_context(case, revealed=revealed))
    return _render_tab(request, case, "identity", rows=_identity_rows(case, revealed))


@permission_required(("cases.view_case", "accounts.reveal_identity"), raise_exception=True)
@never_cache
def family_reveal(request: HttpRequest, pk: int, member_pk: int, field: str) -> HttpResponse:
    if field not in REVEALABLE_FAMILY_FIELDS:
        raise Http404
    if request.method != "POST":
        return redirect("cases:family", pk=pk)
    member = get_object_or_404(FamilyMember.objects.select_related("case"), pk=member_pk, case=pk)
    try:
        value = protected_field_reveal(
            actor=request.user, obj=member, field_name=field, request=request
        )
    except PermissionDenied as refusal:
        return _refused(request, refusal, _member_protected(member, field), "cases:family", pk)
    revealed = {field: value}
    if request.htmx:
        return render(
            request,
            "cases/partials/protected_value.html",
            {"protected": _member_protected(member, field, revealed), "may_reveal": True},
        )
    case = _detail_or_404(pk)
    return _render_tab(
        request,
        case,
        "family",
        rows=_family_rows(case.family_members.all(), member.pk, revealed),
    )


@permission_required(("cases.view_case", "accounts.reveal_identity"), raise_exception=True)
@never_cache
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    """The decrypted file, logged, as an attachment with a name that says nothing."""
    evidence = get_object_or_404(Evidence.objects.select_related("case"), pk=evidence_pk, case=pk)
    try:
        data = services.evidence_open(evidence=evidence, actor=request.user, request=request)
    except PermissionDenied as refusal:
        messages.error(request, refusal_message(refusal))
        return redirect("cases:evidence", pk=pk)
    except FileNotFoundError as error:
        raise Http404 from error
    except ProtectedValueError:
        messages.error(request, _("This file cannot be opened: it has been erased or damaged."))
        return redirect("cases:evidence", pk=pk)
    extension = EVIDENCE_EXTENSIONS.get(evidence.content_type, "bin")
    response = HttpResponse(data, content_type=evidence.content_type)
    filename = f"{evidence.case.code}-evidence-{evidence.pk}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
