"""Periodic tasks that must run often, and how late each one is: /healthz reports it and the
watchdog (notifications) alerts administrators about it. Apps register their own tasks."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

# Celery task name -> the longest it may go without running.
_watched: dict[str, datetime.timedelta] = {}


def watch(task: str, *, minutes: int) -> None:
    _watched[task] = datetime.timedelta(minutes=minutes)


def watched() -> dict[str, datetime.timedelta]:
    return dict(_watched)


@dataclass(frozen=True)
class TaskAge:
    task: str
    last_run: datetime.datetime | None
    age: datetime.timedelta
    limit: datetime.timedelta

    @property
    def late(self) -> bool:
        return self.age > self.limit


def task_ages(now: datetime.datetime | None = None) -> list[TaskAge]:
    """The age of the last run of each watched task that beat has an enabled schedule for.

    A schedule that has never run counts from when it was last changed (a new installation is
    not late before its first run is due)."""
    now = now or timezone.now()
    schedules = PeriodicTask.objects.filter(task__in=_watched, enabled=True).values_list(
        "task", "last_run_at", "date_changed"
    )
    newest: dict[str, tuple[datetime.datetime | None, datetime.datetime]] = {}
    for task, last_run, changed in schedules:
        since = last_run or changed
        if task not in newest or since > newest[task][1]:
            newest[task] = (last_run, since)
    return [
        TaskAge(
            task=task,
            last_run=last_run,
            age=max(now - since, datetime.timedelta()),
            limit=_watched[task],
        )
        for task, (last_run, since) in sorted(newest.items())
    ]
