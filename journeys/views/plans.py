"""The list of journeys, planning one, its page, arrival and cancellation."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import refusal_message
from accounts.services import record_reveal
from cases.models import Case
from journeys import selectors, services
from journeys.forms import CodeWordForm, HandlersForm, JourneyPlanForm
from journeys.models import Debrief, Journey, JourneyStatus
from journeys.services import JourneyError
from protection.blind_indexes import western_digits

CASE_CODE = re.compile(r"HV-\d{4}-\d{5}")


def journey_or_404(request: HttpRequest, pk: int) -> Journey:
    try:
        return selectors.journey_detail(request.user, pk)
    except Journey.DoesNotExist as error:
        raise Http404 from error


@permission_required("journeys.view_journey", raise_exception=True)
@never_cache
def journey_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", JourneyStatus.ACTIVE)
    if status not in JourneyStatus.values:
        status = JourneyStatus.ACTIVE
    error = ""
    if request.method == "POST":
        if not request.user.has_perm("journeys.plan_journey"):
            raise PermissionDenied
        code = western_digits(str(request.POST.get("case", "")).strip().upper())
        case = None
        if CASE_CODE.fullmatch(code):
            case = Case.objects.filter(code=code).only("pk").first()
        if case is not None:
            return redirect("journeys:plan", pk=case.pk)
        error = _("No case has that code.")
    journeys = list(selectors.journey_list(request.user, status=status)[:200])
    return render(
        request,
        "journeys/list.html",
        {
            "journeys": journeys,
            "status": status,
            "statuses": JourneyStatus.choices,
            "error": error,
        },
    )


@permission_required("journeys.plan_journey", raise_exception=True)
@never_cache
def journey_plan(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=pk)
    handlers = selectors.possible_handlers(case)
    form = JourneyPlanForm(request.POST or None, handlers=handlers)
    if request.method == "POST" and form.is_valid():
        try:
            journey = services.journey_plan(
                case=case, actor=request.user, **form.service_arguments()
            )
        except (JourneyError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("The journey is planned; its clock is running."))
            return redirect("journeys:detail", pk=journey.pk)
    return render(
        request,
        "journeys/plan.html",
        {"case": case, "form": form, "has_handlers": handlers.exists()},
    )


@permission_required("journeys.view_journey", raise_exception=True)
@never_cache
def journey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    journey = journey_or_404(request, pk)
    # The plan is shown in clear to its handlers and the coordinators: each showing is a reveal,
    # logged and counted in the day's reveal budget like any other.
    try:
        record_reveal(
            actor=request.user,
            obj=journey,
            field_name="journey plan",
            request=request,
            permission="journeys.view_journey",
        )
    except PermissionDenied as refusal:
        messages.error(request, refusal_message(refusal))
        return redirect("journeys:list")
    return render(
        request,
        "journeys/detail.html",
        {
            "journey": journey,
            "legs": list(journey.legs.all()),
            "contingency": list(journey.contingency.all()),
            "windows": selectors.journey_windows(journey),
            "check_ins": list(journey.check_ins.select_related("recorded_by")[:20]),
            "escalations": list(selectors.journey_escalations(journey)[:30]),
            "may_handle": services.may_handle(request.user, journey),
            "handlers_form": _handlers_form(request, journey),
            "handlers_off_team": services.handlers_out_of_charge(journey),
            "debrief": Debrief.objects.filter(journey=journey).first(),
            "code_word_form": CodeWordForm(),
            "now": timezone.now(),
        },
    )


@require_POST
@permission_required("journeys.view_journey", raise_exception=True)
def journey_arrive(request: HttpRequest, pk: int) -> HttpResponse:
    journey = journey_or_404(request, pk)
    try:
        services.journey_mark_arrived(journey=journey, actor=request.user)
    except (JourneyError, PermissionDenied) as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(request, _("Arrived: the check-in clock has stopped."))
    return redirect("journeys:detail", pk=journey.pk)


@require_POST
@permission_required("journeys.plan_journey", raise_exception=True)
def journey_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    journey = journey_or_404(request, pk)
    try:
        services.journey_cancel(journey=journey, actor=request.user)
    except (JourneyError, PermissionDenied) as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(request, _("The journey is cancelled: its clock has stopped."))
    return redirect("journeys:detail", pk=journey.pk)


def _handlers_form(request: HttpRequest, journey, data=None) -> HandlersForm | None:
    if not (journey.is_active and request.user.has_perm("journeys.plan_journey")):
        return None
    return HandlersForm(
        data,
        handlers=selectors.possible_handlers(journey.case),
        initial={
            "lead_handler": journey.lead_handler_id,
            "backup_handler": journey.backup_handler_id,
        },
    )


@require_POST
@permission_required("journeys.plan_journey", raise_exception=True)
def journey_handlers(request: HttpRequest, pk: int) -> HttpResponse:
    """A coordinator names the journey's handlers again (a handler left the case's team, is
    ill, or is suspected): from the case's team, as at planning."""
    journey = journey_or_404(request, pk)
    form = _handlers_form(request, journey, request.POST)
    if form is None:
        messages.error(request, _("This journey has already ended."))
    elif not form.is_valid():
        messages.error(request, _("Choose the two handlers from the case's team."))
    else:
        try:
            services.journey_handlers_change(
                journey=journey,
                actor=request.user,
                lead_handler=form.cleaned_data["lead_handler"],
                backup_handler=form.cleaned_data["backup_handler"],
            )
        except (JourneyError, PermissionDenied) as error:
            messages.error(request, refusal_message(error))
        else:
            messages.success(request, _("The journey's handlers are changed; they are told."))
    return redirect("journeys:detail", pk=journey.pk)
