"""Houses with their rooms and beds: the list, a house's page (its encrypted details revealed
one at a time, to the access log), adding and editing houses, rooms and beds, marking a house
compromised, closing or reopening it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import refusal_message
from accounts.services import protected_field_reveal
from housing import selectors, services
from housing.forms import (
    BedForm,
    CompromiseForm,
    HouseEditForm,
    HouseForm,
    HouseStatusForm,
    RoomForm,
)
from housing.models import Bed, House, HouseStatus, Room
from housing.services import HousingError
from housing.views.common import _filters, page_query
from protection.keys import Erased

HISTORY_PAGE_SIZE = 50
HOUSES_PAGE_SIZE = 50
REVEAL_PERMISSION = "housing.reveal_address"

# The encrypted details of a house, in the order the house page lists them.
PROTECTED_HOUSE_FIELDS = {
    "address": gettext_lazy("Address"),
    "contact_person": gettext_lazy("Contact person"),
    "notes": gettext_lazy("Notes"),
}


def _has_value(obj: models.Model, name: str) -> bool:
    """Whether an encrypted field holds something, without decrypting it."""
    value = obj.__dict__.get(obj._meta.get_field(name).attname)
    return value is not None and value != ""


def _protected_rows(house: House, revealed: dict[str, Any] | None = None) -> list[dict]:
    """The house's encrypted details, masked; a revealed one (already logged) in clear."""
    revealed = revealed or {}
    return [
        {
            "name": name,
            "label": label,
            "present": _has_value(house, name),
            "revealed": name in revealed,
            "value": revealed.get(name, ""),
            "erased": isinstance(revealed.get(name), Erased),
        }
        for name, label in PROTECTED_HOUSE_FIELDS.items()
    ]


@permission_required("housing.view_house", raise_exception=True)
@require_GET
def houses(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    houses = selectors.board_houses(**filters)
    page = Paginator(houses, HOUSES_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "housing/houses.html",
        {
            "form": form,
            "page": page,
            "query": page_query(request),
            "houses": selectors.occupancy_of(page.object_list),
            "total": selectors.occupancy_total(filters=filters),
            "filtered": any(filters.values()),
        },
    )


def _render_house(
    request: HttpRequest, house: House, revealed: dict[str, Any] | None = None
) -> HttpResponse:
    occupancy = selectors.house_occupancy(house=house)
    history = Paginator(selectors.house_history(house=house), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    user = request.user
    return render(
        request,
        "housing/house_detail.html",
        {
            "house": house,
            "occupancy": occupancy,
            "history": history,
            "relocation": selectors.relocation_list(house=house)
            if house.status == HouseStatus.COMPROMISED
            else [],
            "protected": _protected_rows(house, revealed),
            "may_reveal": user.has_perm(REVEAL_PERMISSION),
            "may_change_house": user.has_perm("housing.change_house"),
            "may_add_room": user.has_perm("housing.add_room"),
            "may_add_bed": user.has_perm("housing.add_bed"),
            "may_change_bed": user.has_perm("housing.change_bed"),
            "may_change_allocation": user.has_perm("housing.change_allocation"),
        },
    )


@permission_required("housing.view_house", raise_exception=True)
@require_GET
@never_cache
def house_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_house(request, get_object_or_404(House, pk=pk))


@permission_required(("housing.view_house", REVEAL_PERMISSION), raise_exception=True)
@require_POST
@never_cache
def house_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one encrypted detail of a house in clear, once, and write that to the access log.
    The field is posted, so it never appears in a URL."""
    house = get_object_or_404(House, pk=pk)
    field = request.POST.get("field", "")
    if field not in PROTECTED_HOUSE_FIELDS:
        raise Http404
    value = protected_field_reveal(
        actor=request.user,
        obj=house,
        field_name=field,
        request=request,
        permission=REVEAL_PERMISSION,
    )
    return _render_house(request, house, revealed={field: value})


@permission_required("housing.add_house", raise_exception=True)
@never_cache
def house_create(request: HttpRequest) -> HttpResponse:
    form = HouseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            house = services.house_create(actor=request.user, **form.cleaned_data)
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("House %(house)s added.") % {"house": house.code_name})
            return redirect("housing:house_detail", pk=house.pk)
    return render(request, "housing/house_form.html", {"form": form, "house": None})


@permission_required(("housing.view_house", "housing.change_house"), raise_exception=True)
@never_cache
def house_edit(request: HttpRequest, pk: int) -> HttpResponse:
    house = get_object_or_404(House, pk=pk)
    form = HouseEditForm(request.POST or None, house=house)
    if request.method == "POST" and form.is_valid():
        try:
            house = services.house_update(house=house, actor=request.user, **form.changes())
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("House %(house)s saved.") % {"house": house.code_name})
            return redirect("housing:house_detail", pk=house.pk)
    return render(request, "housing/house_form.html", {"form": form, "house": house})


@permission_required(("housing.view_house", "housing.add_room"), raise_exception=True)
def room_create(request: HttpRequest, pk: int) -> HttpResponse:
    house = get_object_or_404(House, pk=pk)
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(
                house=house, actor=request.user, name=form.cleaned_data["name"]
            )
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("Room %(room)s added.") % {"room": room.name})
            return redirect("housing:house_detail", pk=house.pk)
    return render(
        request,
        "housing/simple_form.html",
        {
            "form": form,
            "house": house,
            "title": _("Add a room to %(house)s") % {"house": house.code_name},
            "submit": _("Add the room"),
        },
    )


@permission_required(("housing.view_bed", "housing.add_bed"), raise_exception=True)
def bed_create(request: HttpRequest, pk: int) -> HttpResponse:
    room = get_object_or_404(Room.objects.select_related("house"), pk=pk)
    form = BedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            bed = services.bed_create(
                room=room, actor=request.user, label=form.cleaned_data["label"]
            )
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("Bed %(bed)s added.") % {"bed": bed})
            return redirect("housing:house_detail", pk=room.house_id)
    return render(
        request,
        "housing/simple_form.html",
        {
            "form": form,
            "house": room.house,
            "title": _("Add a bed to %(room)s") % {"room": room},
            "submit": _("Add the bed"),
        },
    )


@permission_required(("housing.view_bed", "housing.change_bed"), raise_exception=True)
@require_POST
def bed_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    bed = get_object_or_404(Bed.objects.select_related("room__house"), pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.bed_set_active(bed=bed, actor=request.user, active=active)
    except (HousingError, PermissionDenied) as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(
            request,
            _("Bed %(bed)s is in use again.") % {"bed": bed}
            if active
            else _("Bed %(bed)s is out of use.") % {"bed": bed},
        )
    return redirect("housing:house_detail", pk=bed.room.house_id)


@permission_required(("housing.view_house", "housing.change_house"), raise_exception=True)
@never_cache
def compromise(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a house compromised and show at once whom to move, highest risk first."""
    house = get_object_or_404(House, pk=pk)
    form = CompromiseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            relocation = services.house_mark_compromised(
                house=house, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            house.refresh_from_db(fields=["status", "status_reason", "status_changed_at"])
            messages.warning(
                request,
                _("%(house)s is marked compromised: it takes nobody new.")
                % {"house": house.code_name},
            )
            return render(
                request,
                "housing/relocation_list.html",
                {
                    "house": house,
                    "relocation": relocation,
                    "may_change_allocation": request.user.has_perm("housing.change_allocation"),
                },
            )
    return render(
        request,
        "housing/compromise.html",
        {
            "house": house,
            "form": form,
            "occupants": selectors.current_allocations(house=house).count(),
        },
    )


@permission_required(("housing.view_house", "housing.change_house"), raise_exception=True)
@never_cache
def house_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Close a house, or reopen a closed or compromised one."""
    house = get_object_or_404(House, pk=pk)
    form = HouseStatusForm(request.POST or None, house=house)
    if request.method == "POST" and form.is_valid():
        try:
            house = services.house_set_status(
                house=house,
                actor=request.user,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except (HousingError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(
                request,
                _("%(house)s is now %(status)s.")
                % {"house": house.code_name, "status": house.get_status_display().lower()},
            )
            return redirect("housing:house_detail", pk=house.pk)
    return render(request, "housing/house_status.html", {"house": house, "form": form})
