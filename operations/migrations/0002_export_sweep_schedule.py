"""Schedules the sweep of exports every ten minutes: files past HAVEN_EXPORT_EXPIRY_HOURS are
destroyed with their keys, jobs without a sign of life for HAVEN_EXPORT_STUCK_MINUTES failed."""

from django.db import migrations

from operations.schedules import schedule_task, unschedule_task

SCHEDULE = "Sweep exports"


def schedule(apps, schema_editor):
    schedule_task(
        apps,
        name=SCHEDULE,
        task="operations.sweep_exports",
        description="Destroys expired export files with their keys and fails stuck export jobs.",
        minute="*/10",
        hour="*",
    )


def unschedule(apps, schema_editor):
    unschedule_task(apps, SCHEDULE)


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0001_export_jobs"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
