"""The watchdog: alerts the administrators once when a scheduled task falls behind and once
when it runs again (operations/health.py says which tasks, and how late they may be)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from notifications import kinds
from notifications.models import WatchedTask
from notifications.services import notify
from operations import health


def watchdog_sweep(*, now: datetime.datetime | None = None) -> dict[str, list[str]]:
    """Compare each watched task's last run with its limit; alert on each change of state.

    Each task's row is locked while it is compared, and each alert's event key names the
    episode, so two sweeps at once still alert once."""
    now = now or timezone.now()
    changes: dict[str, list[str]] = {"late": [], "recovered": []}
    for age in health.task_ages(now):
        with transaction.atomic():
            WatchedTask.objects.get_or_create(task=age.task)
            state = WatchedTask.objects.select_for_update().get(task=age.task)
            if age.late and state.late_since is None:
                state.late_since = now - age.age
                state.save(update_fields=["late_since"])
                notify(
                    kind=kinds.TASK_LATE.code,
                    recipients=[Role.ADMINISTRATOR],
                    event_key=f"task-late:{age.task}:{state.late_since.isoformat()}",
                    parameters={"task": age.task, "minutes": int(age.age.total_seconds() // 60)},
                    link="/admin/django_celery_beat/periodictask/",
                )
                changes["late"].append(age.task)
            elif not age.late and state.late_since is not None:
                episode = state.late_since
                state.late_since = None
                state.save(update_fields=["late_since"])
                notify(
                    kind=kinds.TASK_RECOVERED.code,
                    recipients=[Role.ADMINISTRATOR],
                    event_key=f"task-recovered:{age.task}:{episode.isoformat()}",
                    parameters={"task": age.task},
                    link="/admin/django_celery_beat/periodictask/",
                )
                changes["recovered"].append(age.task)
    return changes
