"""Celery tasks of notifications: thin, idempotent, and given only ids."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from notifications import services
from notifications.watchdog import watchdog_sweep


class DeliveryNotSent(Exception):
    """Raised to have Celery retry a delivery later; carries no secret."""


@shared_task(bind=True, name="notifications.deliver", acks_late=True, max_retries=None)
def deliver(self, delivery_id: int) -> str:
    """Send one delivery; on failure try again after a growing pause (30 s, 1, 2, 4… minutes,
    at most an hour) until it is sent or HAVEN_ALERT_MAX_ATTEMPTS have failed."""
    error = services.delivery_attempt(delivery_id=delivery_id)
    if not error:
        return "sent"
    if self.request.retries + 1 >= settings.HAVEN_ALERT_MAX_ATTEMPTS:
        return "failed"
    countdown = min(30 * 2**self.request.retries, 3600)
    raise self.retry(exc=DeliveryNotSent("not sent"), countdown=countdown)


@shared_task(name="notifications.redeliver")
def redeliver() -> int:
    """Queue again the deliveries whose task was lost (broker or worker down)."""
    return services.deliveries_requeue()


@shared_task(name="notifications.watchdog")
def watchdog() -> dict:
    return watchdog_sweep()
