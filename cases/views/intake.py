"""Intake in steps (details, family, items, review), and editing a case's details."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.models import User
from accounts.permissions import permission_required_logged, refusal_message
from accounts.services import protected_field_reveal
from cases import services
from cases.choices import Status
from cases.forms import CaseDetailsForm, CaseEditForm, FamilyMemberForm, ItemForm, case_initial
from cases.models import Case, Evidence, FamilyMember, ItemBrought
from cases.rules import SEE_IDENTITY
from cases.services import CaseError, DuplicateCaseError, PossibleDuplicateWarning, StaleEditError
from cases.services.intake import IDENTIFYING_FIELDS
from cases.services.lookups import LookupRefused, protected_lookup
from cases.views.common import (
    REVEALABLE_CASE_FIELDS,
    _case_or_404,
    _edit_refusal,
    _family_rows,
    _has_value,
    _posted_int,
)


def _duplicate_context(
    error: DuplicateCaseError | PossibleDuplicateWarning, user
) -> dict[str, Any]:
    """The matching cases this person may see, by code; of the others only that one matches
    and whom to ask (no oracle: cases/services/lookups.py)."""
    visible = [match for match in error.matches if user.has_perm(SEE_IDENTITY, match)]
    hidden = [match for match in error.matches if match not in visible]
    managers = User.objects.in_bulk([match.case_manager_id for match in hidden])
    return {
        "blocking": isinstance(error, DuplicateCaseError),
        "matches": visible,
        "hidden": [managers.get(match.case_manager_id) for match in hidden],
    }


def _looked_up(request: HttpRequest, form, fields: dict[str, Any]) -> bool:
    """A save that checks duplicates by a protected value is a look-up: logged and limited.
    False (with the reason on the form) when refused."""
    if not IDENTIFYING_FIELDS & {name for name, value in fields.items() if value}:
        return True
    try:
        protected_lookup(actor=request.user, kind="intake duplicate check", request=request)
    except LookupRefused as refusal:
        form.add_error(None, str(refusal))
        return False
    return True


@permission_required("cases.add_case", raise_exception=True)
def case_intake(request: HttpRequest) -> HttpResponse:
    """Step 1: identity and contact. Saving creates the case in intake: the draft."""
    form = CaseDetailsForm(request.POST or None)
    duplicate = None
    if (
        request.method == "POST"
        and form.is_valid()
        and _looked_up(request, form, form.case_fields())
    ):
        try:
            case = services.case_intake(
                actor=request.user,
                confirmed_not_duplicate=form.cleaned_data["confirmed_not_duplicate"],
                **form.case_fields(),
            )
        except (DuplicateCaseError, PossibleDuplicateWarning) as error:
            duplicate = _duplicate_context(error, request.user)
            form.add_error(None, refusal_message(error))
        except (CaseError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(
                request,
                _("Case %(code)s is recorded. Add the family members next.") % {"code": case.code},
            )
            return redirect("cases:intake_family", pk=case.pk)
    return render(
        request, "cases/intake.html", {"form": form, "duplicate": duplicate, "step": "details"}
    )


@permission_required(
    ("cases.view_case", "cases.change_case", "accounts.reveal_identity"), raise_exception=True
)
@never_cache
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's details, with the version read when the form was opened: a save after
    someone else's is refused rather than overwriting it."""
    case = _case_or_404(pk)
    refusal = _edit_refusal(case, request.user)
    if refusal:
        messages.warning(request, refusal)
        return redirect("cases:detail", pk=case.pk)
    duplicate, stale = None, False
    if request.method == "POST":
        form = CaseEditForm(request.POST, initial=case_initial(case))
        if form.is_valid():
            fields = form.case_fields()
            if not fields:
                messages.info(request, _("Nothing was changed."))
                return redirect("cases:detail", pk=case.pk)
            if not _looked_up(request, form, fields):
                return render(
                    request,
                    "cases/edit.html",
                    {"form": form, "case": case, "duplicate": None, "stale": False},
                )
            try:
                services.case_update(
                    case=case,
                    actor=request.user,
                    version=form.cleaned_data["version"],
                    confirmed_not_duplicate=form.cleaned_data["confirmed_not_duplicate"],
                    **fields,
                )
            except StaleEditError as error:
                stale = True
                form.add_error(None, refusal_message(error))
            except (DuplicateCaseError, PossibleDuplicateWarning) as error:
                duplicate = _duplicate_context(error, request.user)
                form.add_error(None, refusal_message(error))
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The changes are saved."))
                if case.status == Status.INTAKE:
                    return redirect("cases:intake_family", pk=case.pk)
                return redirect("cases:detail", pk=case.pk)
    else:
        # The form shows protected values in clear: each one shown is a logged reveal.
        initial = case_initial(case)
        try:
            for name, value in initial.items():
                if name in REVEALABLE_CASE_FIELDS and value:
                    initial[name] = protected_field_reveal(
                        actor=request.user, obj=case, field_name=name, request=request
                    )
        except PermissionDenied as refusal:
            messages.error(request, refusal_message(refusal))
            return redirect("cases:detail", pk=case.pk)
        form = CaseEditForm(initial={**initial, "version": case.version})
    return render(
        request,
        "cases/edit.html",
        {"form": form, "case": case, "duplicate": duplicate, "stale": stale},
    )


def _going_on(request: HttpRequest, case: Case) -> bool:
    """Whether "Go on" was pressed (intake only): what the form holds is saved first, never
    thrown away."""
    return case.status == Status.INTAKE and "go_on" in request.POST


@permission_required("cases.view_case", raise_exception=True)
@permission_required_logged("cases.change_case", "cases.manage_safety")
def intake_family(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2 of intake (and later, for a case manager): add and remove family members."""
    case = _case_or_404(pk)
    form = FamilyMemberForm()
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            member = get_object_or_404(
                FamilyMember, pk=_posted_int(request, "member"), case_id=case.pk
            )
            try:
                services.family_member_remove(member=member, actor=request.user)
            except (CaseError, PermissionDenied) as error:
                messages.error(request, refusal_message(error))
            else:
                messages.success(request, _("The family member is removed."))
            return redirect("cases:intake_family", pk=case.pk)
        form = FamilyMemberForm(request.POST)
        going_on = _going_on(request, case)
        if going_on and not form.has_changed():
            return redirect("cases:intake_items", pk=case.pk)
        if form.is_valid():
            try:
                services.family_member_add(case=case, actor=request.user, **form.cleaned_data)
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The family member is added."))
                return redirect(
                    "cases:intake_items" if going_on else "cases:intake_family", pk=case.pk
                )
        elif going_on:
            form.add_error(
                None,
                _(
                    "The family member you typed is not saved yet: complete it (or empty the "
                    "form) and go on again."
                ),
            )
    members = FamilyMember.objects.filter(case=case).order_by("pk")
    return render(
        request,
        "cases/intake_family.html",
        {
            "case": case,
            "form": form,
            "rows": _family_rows(members),
            "may_reveal": request.user.has_perm(SEE_IDENTITY, case),
            "step": "family",
        },
    )


@permission_required("cases.view_case", raise_exception=True)
@permission_required_logged("cases.change_case", "cases.manage_safety")
def intake_items(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 3 of intake (and later, for a case manager): weapons, ammunition, vehicles."""
    case = _case_or_404(pk)
    form = ItemForm()
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            item = get_object_or_404(ItemBrought, pk=_posted_int(request, "item"), case_id=case.pk)
            try:
                services.item_remove(item=item, actor=request.user)
            except (CaseError, PermissionDenied) as error:
                messages.error(request, refusal_message(error))
            else:
                messages.success(request, _("The item is removed."))
            return redirect("cases:intake_items", pk=case.pk)
        form = ItemForm(request.POST)
        going_on = _going_on(request, case)
        if going_on and not form.has_changed():
            return redirect("cases:intake_review", pk=case.pk)
        if form.is_valid():
            try:
                services.item_add(case=case, actor=request.user, **form.cleaned_data)
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The item is added."))
                return redirect(
                    "cases:intake_review" if going_on else "cases:intake_items", pk=case.pk
                )
        elif going_on:
            form.add_error(
                None,
                _(
                    "The item you typed is not saved yet: complete it (or empty the form) and "
                    "go on again."
                ),
            )
    items = ItemBrought.objects.filter(case=case).select_related("recorded_by").order_by("pk")
    return render(
        request,
        "cases/intake_items.html",
        {"case": case, "form": form, "items": items, "step": "items"},
    )


def _missing_details(case: Case) -> list[str]:
    """What a verifier will miss; nothing here blocks the draft."""
    missing = []
    if not (_has_value(case, "service_number") or _has_value(case, "national_id")):
        missing.append(_("No service number or national ID number."))
    if not _has_value(case, "date_of_birth"):
        missing.append(_("No date of birth."))
    if not _has_value(case, "phone"):
        missing.append(_("No phone number to reach the person."))
    if not case.unit_type and not _has_value(case, "unit"):
        missing.append(_("No unit."))
    if case.defection_date is None:
        missing.append(_("No date of defection."))
    if not Evidence.objects.filter(case=case).exists():
        missing.append(_("No evidence file (an identity document or service record helps)."))
    return missing


@permission_required("cases.view_case", raise_exception=True)
@permission_required_logged("cases.add_case", "cases.change_case")
def intake_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The last step: the draft is saved; say what is still missing."""
    case = _case_or_404(pk)
    context = {
        "case": case,
        "missing": _missing_details(case),
        "family_count": FamilyMember.objects.filter(case=case).count(),
        "item_count": ItemBrought.objects.filter(case=case).count(),
        "step": "review",
    }
    return render(request, "cases/intake_review.html", context)
