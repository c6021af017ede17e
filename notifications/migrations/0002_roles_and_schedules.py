"""Grants the alert permissions to the roles, and schedules the sweep that re-sends lost
deliveries and the watchdog of late scheduled tasks (every five minutes each)."""

from django.db import migrations

from accounts.roles import Role, grant_permissions
from operations.schedules import schedule_task, unschedule_task

GRANTS = {
    Role.ADMINISTRATOR: [
        "view_failing_deliveries",
        "view_delivery",
        "view_kindsetting",
        "add_kindsetting",
        "change_kindsetting",
    ],
    Role.AUDITOR: ["view_failing_deliveries", "view_delivery", "view_kindsetting"],
}
SCHEDULES = {
    "Re-send lost alerts": (
        "notifications.redeliver",
        "Queues again the alerts whose delivery task was lost with a broker or a worker.",
    ),
    "Watchdog of scheduled tasks": (
        "notifications.watchdog",
        "Alerts the administrators once when a scheduled task is late, and once when it runs "
        "again.",
    ),
}


def grant(apps, schema_editor):
    grant_permissions(apps, schema_editor, "notifications", GRANTS)


def schedule(apps, schema_editor):
    for name, (task, description) in SCHEDULES.items():
        schedule_task(apps, name=name, task=task, description=description, minute="*/5", hour="*")


def unschedule(apps, schema_editor):
    for name in SCHEDULES:
        unschedule_task(apps, name)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("accounts", "0002_roles"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule),
    ]
