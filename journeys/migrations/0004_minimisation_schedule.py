"""Schedules the nightly minimisation of journeys ended past HAVEN_JOURNEY_RETENTION_DAYS."""

from django.db import migrations

from operations.schedules import schedule_task, unschedule_task

SCHEDULE = "Minimise ended journeys"


def schedule(apps, schema_editor):
    schedule_task(
        apps,
        name=SCHEDULE,
        task="journeys.minimise",
        description="Destroys the data key of each journey ended more than "
        "HAVEN_JOURNEY_RETENTION_DAYS ago and blanks its code-word hashes: the route, channels "
        "and notes become unreadable; times and counts stay.",
        minute="30",
        hour="3",
    )


def unschedule(apps, schema_editor):
    unschedule_task(apps, SCHEDULE)


class Migration(migrations.Migration):
    dependencies = [
        ("journeys", "0003_minimisation"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
