"""The debrief of a journey that arrived."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.permissions import refusal_message
from accounts.services import record_reveal
from journeys import services
from journeys.forms import DebriefForm
from journeys.models import Debrief, JourneyStatus
from journeys.services import JourneyError
from journeys.views.plans import journey_or_404


@permission_required("journeys.view_journey", raise_exception=True)
@never_cache
def journey_debrief(request: HttpRequest, pk: int) -> HttpResponse:
    journey = journey_or_404(request, pk)
    if not services.may_handle(request.user, journey):
        raise PermissionDenied
    if journey.status != JourneyStatus.ARRIVED or journey.is_minimised:
        messages.error(
            request,
            _("A debrief is recorded for a journey that arrived, before it is minimised."),
        )
        return redirect("journeys:detail", pk=journey.pk)
    legs = list(journey.legs.all())
    debrief = Debrief.objects.filter(journey=journey).first()
    form = DebriefForm(
        request.POST or None, legs=legs, initial=DebriefForm.initial_for(debrief, legs)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.debrief_record(journey=journey, actor=request.user, answers=form.answers())
        except (JourneyError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("The debrief is recorded."))
            return redirect("journeys:detail", pk=journey.pk)
    # The page shows the notes (the journey's protected record): a reveal, counted in the day's
    # budget. A saved debrief goes straight back to the journey's page, which counts its own.
    try:
        record_reveal(
            actor=request.user,
            obj=journey,
            field_name="journey debrief",
            request=request,
            permission="journeys.view_journey",
        )
    except PermissionDenied as refusal:
        messages.error(request, refusal_message(refusal))
        return redirect("journeys:list")
    return render(
        request,
        "journeys/debrief.html",
        {"journey": journey, "form": form, "debrief": debrief},
    )
