"""The alerts page, marking alerts read, a person's alert targets, and the administrators' list
of alerts that could not be sent."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import parse_id
from accounts.permissions import permission_required_logged
from notifications import channels, selectors, services
from notifications.forms import TargetForm
from notifications.models import AlertTarget, Notification


def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/list.html", {"page": page})


@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one alert read and open what it links to."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(notification=notification, actor=request.user)
    return redirect(notification.link or "notifications:list")


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(actor=request.user)
    messages.success(request, _("%(count)d alerts marked read.") % {"count": count})
    return redirect("notifications:list")


def target_list(request: HttpRequest) -> HttpResponse:
    form = TargetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            target = services.target_create(
                owner=request.user,
                label=form.cleaned_data["label"],
                url=form.cleaned_data["url"],
                min_severity=form.cleaned_data["min_severity"],
                keep_if_test_fails=form.cleaned_data["keep_if_test_fails"],
            )
        except channels.TargetError as error:
            form.add_error("url", str(error))
        except services.TargetTestFailed as failure:
            form.add_error(
                "url",
                _(
                    "The test alert did not get through, so nothing was saved: %(error)s. "
                    "Check the URL, or tick “Keep it” to save it anyway."
                )
                % {"error": failure.error},
            )
        else:
            if target.last_test_ok:
                messages.success(request, _("Saved. The test alert was sent: check that it came."))
            else:
                messages.warning(
                    request,
                    _("Saved, but the test alert did not get through: %(error)s")
                    % {"error": target.last_error},
                )
            return redirect("notifications:targets")
    return render(
        request,
        "notifications/targets.html",
        {"form": form, "targets": selectors.targets_of(request.user)},
    )


@require_POST
def target_test(request: HttpRequest) -> HttpResponse:
    target = get_object_or_404(
        AlertTarget, pk=parse_id(request.POST.get("target", "")) or 0, owner=request.user
    )
    error = services.target_test(target=target, actor=request.user)
    if error:
        messages.error(
            request, _("The test alert did not get through: %(error)s") % {"error": error}
        )
    else:
        messages.success(request, _("The test alert was sent: check that it came."))
    return redirect("notifications:targets")


@require_POST
def target_delete(request: HttpRequest) -> HttpResponse:
    target = get_object_or_404(
        AlertTarget, pk=parse_id(request.POST.get("target", "")) or 0, owner=request.user
    )
    services.target_delete(target=target, actor=request.user)
    messages.success(request, _("The alert target was removed."))
    return redirect("notifications:targets")


@permission_required_logged("notifications.view_failing_deliveries")
def failing_deliveries(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.failing_deliveries(), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/failing.html", {"page": page})
