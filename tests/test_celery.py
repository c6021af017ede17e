"""A task goes through Redis to a real Celery worker and its result lands in the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django_celery_results.models import TaskResult

from operations.tasks import ping
from tests.workers import Worker, running_worker

# A cold worker imports Django and connects to Redis and PostgreSQL before it takes a task.
ROUND_TRIP_SECONDS = 60


@pytest.fixture
def celery_worker(db, tmp_path) -> Iterator[Worker]:
    """See tests/workers.py. The test runs inside a transaction like any other
    (`transaction=True` would flush every table afterwards, and with them the roles that the
    migrations created); PostgreSQL's READ COMMITTED lets each query in that transaction see
    what the worker has committed meanwhile."""
    with running_worker(tmp_path) as worker:
        yield worker


@pytest.mark.celery_worker
def test_ping_round_trips_through_a_real_worker(celery_worker):
    result = ping.apply_async(queue=celery_worker.queue)

    try:
        answer = result.get(timeout=ROUND_TRIP_SECONDS)
    except CeleryTimeoutError:
        pytest.fail(
            f"No answer from the worker in {ROUND_TRIP_SECONDS} s "
            f"(exit code {celery_worker.process.poll()}):\n{celery_worker.output()}"
        )

    assert answer == "pong"
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "accounts.ping"
    assert stored.worker == celery_worker.name
