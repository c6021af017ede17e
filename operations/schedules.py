"""Celery beat schedules created by data migrations, the way `roles.grant_permissions` grants
permissions: each app schedules its own periodic tasks, editable afterwards in the admin."""

from __future__ import annotations

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
