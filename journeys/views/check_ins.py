"""The phone-sized pages of a handler: a check-in (the code word first), a code word checked
alone, and an incident with its contingency steps to acknowledge."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.permissions import refusal_message
from journeys import selectors, services
from journeys.forms import AcknowledgeForm, CheckInForm, CodeWordForm
from journeys.models import CodeWordResult, Escalation
from journeys.services import JourneyError
from journeys.views.plans import journey_or_404


def _require_handler(request: HttpRequest, journey) -> None:
    if not services.may_handle(request.user, journey):
        raise PermissionDenied


@permission_required("journeys.view_journey", raise_exception=True)
@never_cache
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    journey = journey_or_404(request, pk)
    _require_handler(request, journey)
    form = CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            recorded = services.check_in_record(
                journey=journey, actor=request.user, request=request, **form.cleaned_data
            )
        except (JourneyError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            if recorded.result == CodeWordResult.DURESS:
                messages.error(
                    request,
                    _("DURESS. The emergency flag is raised and the coordinators are alerted."),
                )
            elif recorded.result == CodeWordResult.NO_MATCH:
                messages.warning(
                    request,
                    _("No match: the check-in is recorded but does not count. Ask again."),
                )
            elif recorded.late:
                messages.success(
                    request, _("All clear. The check-in was late: its escalation is closed.")
                )
            else:
                messages.success(request, _("All clear. The check-in is recorded."))
            return redirect("journeys:detail", pk=journey.pk)
    return render(request, "journeys/check_in.html", {"journey": journey, "form": form})


@permission_required("journeys.view_journey", raise_exception=True)
@never_cache
def code_word(request: HttpRequest, pk: int) -> HttpResponse:
    journey = journey_or_404(request, pk)
    _require_handler(request, journey)
    form = CodeWordForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.code_word_check(
                journey=journey, actor=request.user, word=form.cleaned_data["word"], request=request
            )
        except (JourneyError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        form = CodeWordForm()
    return render(
        request,
        "journeys/code_word.html",
        {"journey": journey, "form": form, "result": result, "results": CodeWordResult},
    )


@permission_required("journeys.view_journey", raise_exception=True)
@never_cache
def incident(request: HttpRequest, pk: int, escalation_pk: int) -> HttpResponse:
    journey = journey_or_404(request, pk)
    try:
        escalation = selectors.incident_of(journey, escalation_pk)
    except Escalation.DoesNotExist as error:
        raise Http404 from error
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST":
        _require_handler(request, journey)
        if form.is_valid():
            step = journey.contingency.filter(pk=form.cleaned_data["step"]).first()
            if step is None:
                raise Http404
            try:
                services.incident_acknowledge(
                    escalation=escalation, contingency_step=step, actor=request.user
                )
            except (JourneyError, PermissionDenied) as error:
                messages.error(request, refusal_message(error))
            else:
                messages.success(request, _("The step is acknowledged."))
            return redirect("journeys:incident", pk=journey.pk, escalation_pk=escalation.pk)
    acknowledged = {ack.contingency_step_id: ack for ack in escalation.acknowledgements.all()}
    steps = [(step, acknowledged.get(step.pk)) for step in journey.contingency.all()]
    return render(
        request,
        "journeys/incident.html",
        {
            "journey": journey,
            "escalation": escalation,
            "steps": steps,
            "may_handle": services.may_handle(request.user, journey),
        },
    )
