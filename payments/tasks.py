"""Celery tasks of payments: thin, idempotent, and given only ids and periods."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import OperationalError
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from payments import services
from payments.models import DisbursementBatch, OneOffPayment


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


def approvers() -> list[str]:
    users = User.objects.filter(is_active=True).filter(
        Q(
            groups__permissions__codename="approve_batch",
            groups__permissions__content_type__app_label="payments",
        )
        | Q(is_superuser=True)
    )
    return sorted({user.email for user in users if user.email})


@shared_task(name="payments.notify_batch_ready")
def notify_batch_ready(batch_id: int) -> int:
    """Tell the approvers a draft batch awaits them: month, currency, lines, total; no names."""
    batch = DisbursementBatch.objects.get(pk=batch_id)
    recipients = approvers()
    if recipients:
        send_mail(
            subject=f"Haven: batch {batch.label} is ready for approval",
            message=(
                f"The {batch.label} batch has {batch.line_count} lines totalling {batch.total} "
                f"{batch.currency}.\n"
                f"Review it in Haven: {settings.HAVEN_BASE_URL}/payments/batches/{batch.pk}/"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    return len(recipients)


@shared_task(name="payments.notify_one_off_awaiting")
def notify_one_off_awaiting(one_off_id: int) -> int:
    one_off = OneOffPayment.objects.select_related("case").get(pk=one_off_id)
    recipients = approvers()
    if recipients:
        send_mail(
            subject=f"Haven: a {one_off.get_kind_display().lower()} awaits approval",
            message=(
                f"{one_off.get_kind_display()} of {one_off.amount} {one_off.currency} for case "
                f"{one_off.case.code} needs {one_off.required_approvals} approval(s).\n"
                f"Review it in Haven: {settings.HAVEN_BASE_URL}/payments/one-off/{one_off.pk}/"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    return len(recipients)
