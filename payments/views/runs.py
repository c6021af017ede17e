"""Starting the monthly run: the page where a finance officer queues it for the worker, which
creates the month's draft batches."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.cooling import CoolingPeriod, require_settled
from accounts.permissions import permission_required_logged
from operations.queueing import queue_task
from payments import selectors
from payments.forms import RunForm
from payments.tasks import run_monthly_disbursement


def queue_run(*, period: str, actor_id: int) -> bool:
    """Queue the monthly run once the request's transaction (if any) has committed. False when
    the broker cannot be reached: nothing was queued, and nothing was changed."""
    queued: list[bool] = []
    transaction.on_commit(
        lambda: queued.append(
            queue_task(run_monthly_disbursement, period=period, actor_id=actor_id)
        )
    )
    return all(queued)


@permission_required_logged("payments.run_disbursement", action="run.start", log_reads=False)
@never_cache
def run_month(request: HttpRequest) -> HttpResponse:
    """A finance officer starts the month's run; the worker creates the draft batches."""
    form = RunForm(request.POST or None)
    broker_down = False
    if request.method == "POST" and form.is_valid():
        period = form.cleaned_data["period"].strftime("%Y-%m")
        try:
            # Said now rather than by a run that fails in the worker: the preparer is an eye.
            require_settled(request.user, "payments.run_disbursement")
        except CoolingPeriod as error:
            form.add_error(None, str(error))
        else:
            if queue_run(period=period, actor_id=request.user.pk):
                messages.success(
                    request,
                    _("The run for %(period)s has started; refresh in a moment.")
                    % {"period": period},
                )
                return redirect("payments:batches")
            broker_down = True
    if broker_down:
        form.add_error(
            None,
            _(
                "The run for %(period)s could not be started: the task queue cannot be reached. "
                "Nothing was changed. Try again in a few minutes, or ask an administrator to "
                "check the worker and Redis."
            )
            % {"period": period},
        )
    return render(
        request,
        "payments/run.html",
        {"form": form, "recent": selectors.with_status_totals(selectors.batch_list()[:6])},
        status=503 if broker_down else 200,
    )
