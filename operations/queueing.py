"""Queueing Celery tasks without letting a broker outage fail or stall the request that queues
them: the change is already committed, the failure is logged at ERROR, and the caller is told so
that it can tell the person (the settings bound how long an unreachable Redis can take)."""

from __future__ import annotations

import logging

from celery import Task, current_app
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What publishing raises when Redis is down, refuses connections or does not answer in time.
BROKER_ERRORS = (BrokerOperationalError, RedisError, OSError)


def queue_task(task: Task | str, **arguments: int | str | None) -> bool:
    """Send the task to the broker now; False when it cannot be reached (nothing was queued).

    A task may be named rather than imported, so that a module can queue a task whose module
    imports it back (notifications: alerts queue deliveries, and a failed delivery raises an
    alert). The arguments are ids and periods only: they travel through Redis, the results
    table and this log line, none of which may hold protected data."""
    name = task if isinstance(task, str) else task.name
    try:
        if not isinstance(task, str):
            task.delay(**arguments)
        elif current_app.conf.task_always_eager:
            current_app.tasks[task].apply(kwargs=arguments)
        else:
            current_app.send_task(task, kwargs=arguments)
    except BROKER_ERRORS as error:
        # The error's text names the broker's address; its kind is enough to act on.
        logger.error(
            "task.not_queued",
            extra={"task": name, "arguments": arguments, "error": type(error).__name__},
        )
        return False
    return True
