"""Allocations: giving beds to a case's waiting people, checking out, moving a person or a
household to other beds, undoing a wrong allocation, and where a case's people stayed. Occupants
appear only by case code."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.forms import parse_id
from accounts.permissions import refusal_message
from cases.choices import Status as CaseStatus
from cases.models import Case
from housing import selectors, services
from housing.forms import (
    AllocationForm,
    CheckOutForm,
    HouseholdMoveForm,
    TransferForm,
    UndoForm,
    propose_beds,
)
from housing.models import Allocation, House
from housing.selectors import WaitingEntry
from housing.services import BedNoLongerFreeError, HousingError, Occupant


def _waiting_people(case: Case) -> list[WaitingEntry]:
    """The case's person and family members who still need a bed today."""
    return list(selectors.waiting_list(case=case))


def _stay_state(allocation: Allocation, now: datetime.datetime) -> str:
    stay = allocation.stay
    if allocation.cancelled:
        return "cancelled"
    if stay.lower > now:
        return "booked"
    if stay.upper is None or stay.upper > now:
        return "current"
    return "ended"


def _allocation_or_404(pk: int) -> Allocation:
    return get_object_or_404(
        Allocation.objects.select_related("case", "family_member", "bed__room__house"), pk=pk
    )


@permission_required(("housing.add_allocation", "housing.change_allocation"), raise_exception=True)
@never_cache
def allocate(request: HttpRequest) -> HttpResponse:
    """Beds for a case's waiting people, proposed together where the free beds allow."""
    case_pk = parse_id(request.GET.get("case", ""))
    if case_pk is None:
        messages.info(request, _("Choose a case from the waiting list to allocate beds."))
        return redirect("housing:waiting_list")
    case = get_object_or_404(Case.objects.only("pk", "code", "status", "risk_level"), pk=case_pk)
    if case.status != CaseStatus.VERIFIED:
        messages.error(
            request,
            _("%(code)s is not verified: only verified cases can be housed.") % {"code": case.code},
        )
        return redirect("housing:waiting_list")
    people = _waiting_people(case)
    if not people:
        messages.info(request, _("Everyone of %(code)s has a bed.") % {"code": case.code})
        return redirect("housing:case_history", pk=case.pk)
    town = request.GET.get("town", "")
    free = list(selectors.free_beds())
    form = AllocationForm(
        request.POST or None,
        people=people,
        free=free,
        proposed=propose_beds(len(people), free, town),
    )
    if request.method == "POST" and form.is_valid():
        placements = [
            (Occupant(case, entry.family_member), bed) for entry, bed in form.placements()
        ]
        try:
            allocations = services.household_allocate(
                actor=request.user,
                placements=placements,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
            )
        except BedNoLongerFreeError as error:
            # Offer a fresh proposal from the beds that are free now.
            messages.error(request, str(error))
            free = list(selectors.free_beds())
            form = AllocationForm(
                initial={"start": form.cleaned_data["start"], "end": form.cleaned_data["end"]},
                people=people,
                free=free,
                proposed=propose_beds(len(people), free, town),
            )
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d person of %(code)s was given a bed.",
                    "%(count)d people of %(code)s were given beds.",
                    len(allocations),
                )
                % {"count": len(allocations), "code": case.code},
            )
            return redirect("housing:case_history", pk=case.pk)
    return render(
        request,
        "housing/allocate.html",
        {
            "case": case,
            "form": form,
            "free_count": len(free),
            "towns": selectors.towns(),
            "town": town,
        },
    )


@permission_required("housing.change_allocation", raise_exception=True)
@never_cache
def check_out(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation_or_404(pk)
    form = CheckOutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.allocation_check_out(
                allocation=allocation, actor=request.user, on=form.cleaned_data["on"]
            )
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(
                request,
                _("%(occupant)s checked out of %(house)s.")
                % {
                    "occupant": allocation.occupant_label,
                    "house": allocation.bed.room.house.code_name,
                },
            )
            return redirect("housing:case_history", pk=allocation.case_id)
    return render(request, "housing/check_out.html", {"allocation": allocation, "form": form})


@permission_required("housing.change_allocation", raise_exception=True)
@never_cache
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation_or_404(pk)
    form = TransferForm(request.POST or None, free=list(selectors.free_beds()))
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.allocation_transfer(
                allocation=allocation,
                actor=request.user,
                to_bed=form.cleaned_data["to_bed"],
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
            )
        except BedNoLongerFreeError as error:
            messages.error(request, str(error))
            form = TransferForm(
                initial={"on": form.cleaned_data["on"], "reason": form.cleaned_data["reason"]},
                free=list(selectors.free_beds()),
            )
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(
                request,
                _("%(occupant)s moved to %(bed)s.")
                % {"occupant": allocation.occupant_label, "bed": moved.bed},
            )
            return redirect("housing:case_history", pk=allocation.case_id)
    return render(request, "housing/transfer.html", {"allocation": allocation, "form": form})


@permission_required("housing.view_allocation", raise_exception=True)
@require_GET
def case_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the case's person and family stayed, and who is still waiting for a bed."""
    case = get_object_or_404(Case.objects.only("pk", "code", "status"), pk=pk)
    now = timezone.now()
    stays = list(selectors.case_history(case=case))
    # Whether the user is a coordinator matters (and costs a query) only for a recent stay
    # someone else made.
    recent = [stay for stay in stays if services.may_undo(stay, request.user, coordinator=True)]
    coordinator = any(
        stay.checked_in_by_id != request.user.pk for stay in recent
    ) and services.is_housing_coordinator(request.user)
    for stay in stays:
        stay.case = case
        stay.state = _stay_state(stay, now)
        stay.may_undo = stay in recent and (stay.checked_in_by_id == request.user.pk or coordinator)
    return render(
        request,
        "housing/case_history.html",
        {
            "case": case,
            "stays": stays,
            "waiting": _waiting_people(case) if case.status == CaseStatus.VERIFIED else [],
            "may_change": request.user.has_perm("housing.change_allocation"),
            "staying_now": sum(stay.state == "current" for stay in stays),
            "may_allocate": request.user.has_perm("housing.add_allocation"),
        },
    )


@permission_required(("housing.view_house", "housing.change_allocation"), raise_exception=True)
@never_cache
def household_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a case's household (or the people chosen from it) to beds proposed together, in
    one action: everyone chosen moves, or nobody does. Opened from a compromised house's
    relocation list, it lists the household's stays in that house."""
    case = get_object_or_404(Case.objects.only("pk", "code", "status"), pk=pk)
    house_pk = parse_id(request.GET.get("house", ""))
    house = get_object_or_404(House, pk=house_pk) if house_pk is not None else None
    stays = selectors.household_stays(case=case, house=house)
    if not stays:
        messages.info(request, _("Nobody of %(code)s is staying there now.") % {"code": case.code})
        if house is not None:
            return redirect("housing:house_detail", pk=house.pk)
        return redirect("housing:case_history", pk=case.pk)
    town = request.GET.get("town", "")
    free = list(selectors.free_beds())
    form = HouseholdMoveForm(
        request.POST or None, stays=stays, free=free, proposed=propose_beds(len(stays), free, town)
    )
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.household_move(
                actor=request.user,
                moves=form.moves(),
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
            )
        except BedNoLongerFreeError as error:
            # Offer a fresh proposal from the beds that are free now.
            messages.error(request, str(error))
            free = list(selectors.free_beds())
            form = HouseholdMoveForm(
                initial={"on": form.cleaned_data["on"], "reason": form.cleaned_data["reason"]},
                stays=stays,
                free=free,
                proposed=propose_beds(len(stays), free, town),
            )
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(
                request,
                _("%(count)d of %(code)s moved.") % {"count": len(moved), "code": case.code},
            )
            if house is not None:
                return redirect("housing:house_detail", pk=house.pk)
            return redirect("housing:case_history", pk=case.pk)
    return render(
        request,
        "housing/household_move.html",
        {
            "case": case,
            "house": house,
            "form": form,
            "free_count": len(free),
            "towns": selectors.towns(),
            "town": town,
        },
    )


@permission_required("housing.change_allocation", raise_exception=True)
@never_cache
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo a wrong allocation or move shortly after it was made: it is cancelled, with why."""
    allocation = _allocation_or_404(pk)
    form = UndoForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.allocation_undo(
                allocation=allocation, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(
                request,
                _("The allocation of %(occupant)s to %(bed)s is undone.")
                % {"occupant": allocation.occupant_label, "bed": allocation.bed},
            )
            return redirect("housing:case_history", pk=allocation.case_id)
    return render(
        request,
        "housing/undo.html",
        {
            "allocation": allocation,
            "form": form,
            "minutes": settings.HAVEN_ALLOCATION_UNDO_MINUTES,
            "may_undo": services.may_undo(
                allocation,
                request.user,
                coordinator=services.is_housing_coordinator(request.user),
            ),
        },
    )
