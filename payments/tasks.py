"""Celery tasks of payments: thin, idempotent, and given only ids and periods. The e-mails to
approvers, which services queue, are tasks of payments/notifications.py."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from accounts.models import User
from payments import services


@shared_task(
    name="payments.run_monthly_disbursement",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def run_monthly_disbursement(period: str | None = None, actor_id: int | None = None) -> dict:
    """Create the month's draft batches (beat starts it for the current month). Safe to run
    again, at the same time, or after a crash: each plan is paid once a month."""
    month = services.parse_period(period) if period else services.month_of(timezone.localdate())
    actor = User.objects.get(pk=actor_id) if actor_id else None
    batches = services.disbursement_run(period=month, actor=actor)
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
