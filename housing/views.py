"""The housing pages: occupancy board, waiting list and allocation, moves and check-outs,
houses with their rooms and beds, and reports. Views parse forms and call one service or
selector; a refused change is shown as a message on the page, never as an error page.
Occupants appear only by case code."""

from __future__ import annotations

import csv
import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import parse_id
from accounts.permissions import refusal_message
from accounts.services import protected_field_reveal
from audit.models import AccessLog
from audit.services import log_access
from cases.choices import Status as CaseStatus
from cases.models import Case
from housing import house_services, selectors, services
from housing.charts import bar_chart_svg, bed_night_table
from housing.forms import (
    AllocationForm,
    BedForm,
    BoardFilterForm,
    CheckOutForm,
    CompromiseForm,
    HouseEditForm,
    HouseForm,
    HouseStatusForm,
    ReportRangeForm,
    RoomForm,
    TransferForm,
    propose_beds,
)
from housing.models import Allocation, Bed, House, HouseStatus, Room
from housing.selectors import WaitingEntry
from housing.services import BedNoLongerFreeError, HousingError, Occupant
from protection.exports import csv_safe
from protection.keys import Erased

HISTORY_PAGE_SIZE = 50
REVEAL_PERMISSION = "housing.reveal_address"

# The encrypted details of a house, in the order the house page lists them.
PROTECTED_HOUSE_FIELDS = {
    "address": gettext_lazy("Address"),
    "contact_person": gettext_lazy("Contact person"),
    "notes": gettext_lazy("Notes"),
}

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).


# --- helpers ---------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> tuple[BoardFilterForm, dict[str, str]]:
    form = BoardFilterForm(request.GET or None, towns=selectors.towns())
    if form.is_bound:
        form.is_valid()
    return form, form.filters()


def _waiting_people(case: Case) -> list[WaitingEntry]:
    """The case's person and family members who still need a bed today."""
    return [entry for entry in selectors.waiting_list() if entry.case.pk == case.pk]


def _stay_state(allocation: Allocation, today: datetime.date) -> str:
    period = allocation.period
    if period.lower > today:
        return "booked"
    if period.upper is None or period.upper > today:
        return "current"
    return "ended"


def _allocation_or_404(pk: int) -> Allocation:
    return get_object_or_404(
        Allocation.objects.select_related("case", "family_member", "bed__room__house"), pk=pk
    )


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


# --- board and waiting list ------------------------------------------------------------------


@permission_required("housing.view_bed", raise_exception=True)
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    houses, total = selectors.occupancy_board(**filters)
    compromised = [entry for entry in houses if entry.house.status == HouseStatus.COMPROMISED]
    return render(
        request,
        "housing/board.html",
        {
            "form": form,
            "houses": houses,
            "total": total,
            "compromised": compromised,
            "filtered": any(filters.values()),
        },
    )


@permission_required("housing.view_allocation", raise_exception=True)
@require_GET
def waiting_list(request: HttpRequest) -> HttpResponse:
    entries = selectors.waiting_list()
    return render(
        request,
        "housing/waiting_list.html",
        {"entries": entries, "may_allocate": request.user.has_perm("housing.add_allocation")},
    )


# --- allocation, check-out, transfer -----------------------------------------------------------


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
                _("%(count)d of %(code)s allocated a bed.")
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
    today = timezone.localdate()
    stays = list(selectors.case_history(case=case))
    for stay in stays:
        stay.case = case
        stay.state = _stay_state(stay, today)
    return render(
        request,
        "housing/case_history.html",
        {
            "case": case,
            "stays": stays,
            "waiting": _waiting_people(case) if case.status == CaseStatus.VERIFIED else [],
            "may_change": request.user.has_perm("housing.change_allocation"),
            "may_allocate": request.user.has_perm("housing.add_allocation"),
        },
    )


# --- houses ------------------------------------------------------------------------------------


@permission_required("housing.view_house", raise_exception=True)
@require_GET
def houses(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    entries, total = selectors.occupancy_board(**filters)
    return render(
        request,
        "housing/houses.html",
        {"form": form, "houses": entries, "total": total, "filtered": any(filters.values())},
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
            house = house_services.house_create(actor=request.user, **form.cleaned_data)
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
            house = house_services.house_update(house=house, actor=request.user, **form.changes())
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
            room = house_services.room_create(
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
            bed = house_services.bed_create(
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
        house_services.bed_set_active(bed=bed, actor=request.user, active=active)
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


# --- reports -----------------------------------------------------------------------------------


@permission_required("housing.view_housing_reports", raise_exception=True)
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportRangeForm(request.GET)
    context: dict[str, Any] = {"form": form, "figures": selectors.stay_figures()}
    if form.is_valid():
        first, last = form.date_range()
        last = min(last, timezone.localdate())
        table = bed_night_table(
            selectors.bed_nights_per_month(date_from=first, date_to=last), first=first, last=last
        )
        description = _(
            "Bars show the nights slept in all houses per month, from %(first)s to %(last)s: "
            "%(total)d bed-nights in all."
        ) % {
            "first": first.strftime("%Y-%m"),
            "last": last.strftime("%Y-%m"),
            "total": table.total,
        }
        context.update(
            table=table,
            first=first,
            last=last,
            chart_description=description,
            chart=bar_chart_svg(
                chart_id="chart-all",
                title=_("Bed-nights per month, all houses"),
                description=description,
                months=table.months,
                values=table.month_totals,
            ),
            house_charts=[
                (
                    row,
                    bar_chart_svg(
                        chart_id=f"chart-house-{position}",
                        title=_("Bed-nights per month in %(house)s") % {"house": row.house_code},
                        description=_("%(total)d bed-nights in %(house)s in the range.")
                        % {"total": row.total, "house": row.house_code},
                        months=table.months,
                        values=row.nights,
                        width=480,
                        height=220,
                    ),
                )
                for position, row in enumerate(table.houses)
            ],
        )
    return render(request, "housing/reports.html", context)


@permission_required("housing.view_housing_reports", raise_exception=True)
@require_GET
def reports_export(request: HttpRequest) -> HttpResponse:
    """Bed-nights per house and month as CSV: house code names and counts, nothing else."""
    form = ReportRangeForm(request.GET)
    if not form.is_valid():
        for error in form.non_field_errors() or [_("Check the months of the range.")]:
            messages.error(request, error)
        return redirect("housing:reports")
    first, last = form.date_range()
    last = min(last, timezone.localdate())
    rows = selectors.bed_nights_per_month(date_from=first, date_to=last)
    log_access(
        action=AccessLog.Action.EXPORT,
        actor=request.user,
        request=request,
        target_label="housing bed-nights",
        detail={
            "report": "housing_bed_nights",
            "from": first.isoformat(),
            "to": last.isoformat(),
            "rows": len(rows),
        },
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="haven-bed-nights-{first:%Y-%m}-to-{last:%Y-%m}.csv"'
    )
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(["house", "month", "bed_nights"])
    for row in rows:
        writer.writerow([csv_safe(row.house_code), row.month.strftime("%Y-%m"), row.nights])
    return response
