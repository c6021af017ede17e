"""A worker killed with SIGKILL in the middle of building an export. Nobody asks again: the task
was never acknowledged (acks late), so the worker that replaces the dead one is handed the same
task, starts the file again from the beginning and finishes it; the person downloads one whole
file. Meanwhile the page shows the job being built, not failed."""

from __future__ import annotations

import time
import uuid

import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.result import AsyncResult
from django.conf import settings

from accounts.roles import Role
from operations import exports
from operations.models import ExportJob
from operations.tasks import build_export
from protection.models import DataKey
from tests.faults.slow_export import LINES, SLOW
from tests.workers import kill, running_worker

pytestmark = [
    pytest.mark.celery_worker,
    # serialized_rollback restores the roles that the data migrations made, after each flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def worker_settings() -> dict[str, str]:
    """Unacknowledged messages under keys of this test's own (tests/faults/worker_settings.py),
    and the private files where this test reads them."""
    return {
        "DJANGO_SETTINGS_MODULE": "tests.faults.export_worker_settings",
        "HAVEN_TEST_UNACKED_KEY": f"unacked-{uuid.uuid4().hex}",
        "HAVEN_PRIVATE_FILES_ROOT": str(settings.MEDIA_ROOT),
    }


def test_an_export_killed_mid_build_is_built_whole_by_the_next_worker(
    make_staff, monkeypatch, tmp_path
):
    officer = make_staff(Role.FINANCE_OFFICER)
    # The test sends the task to its worker's queue itself.
    monkeypatch.setattr(exports, "queue_task", lambda name, **kwargs: True)
    job = exports.export_start(kind=SLOW.code, actor=officer, arguments={})
    environment = worker_settings()
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()

    with running_worker(tmp_path / "first", **environment) as first:
        task_id = build_export.apply_async(kwargs={"job_id": str(job.pk)}, queue=first.queue).id
        deadline = time.monotonic() + 60
        while True:
            job.refresh_from_db()
            if job.status == ExportJob.Status.RUNNING and job.progress_done >= 10:
                break
            assert time.monotonic() < deadline, first.output()
            time.sleep(0.1)
        kill(first)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and job.progress_done < LINES
    assert exports.shown_status(job) == ExportJob.Status.RUNNING
    interrupted_key = job.data_key_id

    monkeypatch.setattr("tests.workers.uuid.uuid4", lambda: uuid.UUID(first.queue[-32:]))
    with running_worker(
        tmp_path / "second", CELERY_VISIBILITY_TIMEOUT="1", **environment
    ) as second:
        assert second.queue == first.queue
        try:
            status = AsyncResult(task_id).get(timeout=60)
        except CeleryTimeoutError:
            pytest.fail(f"The task was not taken over:\n{second.output()}")
        log = second.output()

    assert f"Task operations.build_export[{task_id}] received" in log
    assert status == ExportJob.Status.READY
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ExportJob.Status.READY, 2)
    assert (job.progress_done, job.progress_total) == (LINES, LINES)
    # The interrupted attempt's key is destroyed: its part file is unreadable for good.
    assert job.data_key_id != interrupted_key
    assert DataKey.objects.get(pk=interrupted_key).wrapped_key is None
    assert job.data_key.destroyed_at is None
    download = exports.export_open(job=job, actor=officer)
    text = b"".join(download.chunks).decode()
    assert text == "".join(f"line {number}\n" for number in range(LINES))
    # Only the finished file is left in private storage.
    assert [path.name for path in (settings.MEDIA_ROOT / "exports").iterdir()] == [job.storage_name]
