"""Celery tasks of accounts."""

from celery import shared_task


@shared_task(name="accounts.ping")
def ping() -> str:
    """Proves that a worker is consuming from the broker; used by health checks and tests."""
    return "pong"
