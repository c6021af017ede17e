"""Celery tasks of cases: thin, idempotent, and given no personal data."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from cases.services import erasure


@shared_task(
    name="cases.propose_erasures",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def propose_erasures() -> dict[str, int]:
    """Propose the erasure of cases closed past the retention period (beat runs it nightly).
    Safe to run again or at the same time: a case has at most one open proposal."""
    return erasure.erasure_propose_by_rule()
