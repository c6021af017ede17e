"""Celery tasks of payments: thin, idempotent, and given only ids and periods. The e-mails to
approvers, which services queue, are tasks of payments/notifications.py."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from accounts.models import User
from payments import services


@shared_task(
    bind=True,
    name="payments.run_monthly_disbursement",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def run_monthly_disbursement(self, period: str | None = None, actor_id: int | None = None) -> dict:
    """Create the month's draft batches (beat starts it for the current month). Safe to run
    again, at the same time, or after a crash: each plan is paid once a month. The history names
    the run by the task's id, and the schedule (django-celery-beat's header) when beat sent it."""
    month = services.parse_period(period) if period else services.month_of(timezone.localdate())
    actor = User.objects.get(pk=actor_id) if actor_id else None
    batches = services.disbursement_run(
        period=month,
        actor=actor,
        run_id=self.request.id or "",
        schedule=_schedule_of(self.request),
    )
    return {
        "period": f"{month:%Y-%m}",
        "batches": [
            {
                "id": batch.pk,
                "currency": batch.currency,
                "lines": batch.line_count,
                "total": str(batch.total),
            }
            for batch in batches
        ],
    }


def _schedule_of(request) -> str:
    """The periodic task's name that django-celery-beat puts in the headers of what it sends: a
    worker makes headers attributes of the request; a task applied in-process keeps them apart."""
    name = getattr(request, "periodic_task_name", None) or (request.headers or {}).get(
        "periodic_task_name"
    )
    return str(name)[:200] if name else ""
