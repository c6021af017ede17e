"""Celery beat schedules created by data migrations, the way `roles.grant_permissions` grants
permissions: each app schedules its own periodic tasks, editable afterwards in the admin; and
the tasks an administrator may schedule there, with the keyword arguments each accepts.

A periodic task made in the admin could otherwise run any registered task with any arguments
(a monthly run naming any finance officer as its actor, say). Apps declare their schedulable
tasks in their AppConfig.ready(); no argument may name a person."""

from __future__ import annotations

import re
from collections.abc import Callable

# Task name -> {keyword argument -> its check}.
_schedulable: dict[str, dict[str, Callable[[object], bool]]] = {}


def allow_schedule(task: str, **arguments: Callable[[object], bool]) -> None:
    """Let administrators schedule `task` in the admin, with only these keyword arguments."""
    _schedulable[task] = dict(arguments)


def schedulable_tasks() -> dict[str, dict[str, Callable[[object], bool]]]:
    return dict(_schedulable)


def is_month(value: object) -> bool:
    """A month as YYYY-MM."""
    return isinstance(value, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value) is not None


SCHEDULE_TIME_ZONE = "Asia/Yangon"


def schedule_task(
    apps,
    *,
    name: str,
    task: str,
    description: str,
    minute: str,
    hour: str,
    day_of_month: str = "*",
) -> None:
    """A periodic task on a crontab in Yangon time; left as it is if it exists (an administrator
    may have changed it)."""
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_week="*",
        day_of_month=day_of_month,
        month_of_year="*",
        timezone=SCHEDULE_TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=name,
        defaults={"task": task, "crontab": crontab, "kwargs": "{}", "description": description},
    )


def unschedule_task(apps, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
