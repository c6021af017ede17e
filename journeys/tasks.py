"""Celery tasks of journeys: thin, idempotent, given no personal data."""

from __future__ import annotations

from celery import shared_task

from journeys import services


@shared_task(name="journeys.escalate")
def escalate() -> int:
    """The sweep of missed check-ins (beat, every minute): running it twice does no harm."""
    return len(services.escalation_sweep())


@shared_task(name="journeys.minimise")
def minimise() -> int:
    """The nightly minimisation of journeys ended past the retention period: idempotent."""
    return len(services.minimisation_sweep())
