"""Schedules the nightly backup (02:30 Asia/Yangon; administrators can change it in the admin
under Periodic tasks)."""

from django.db import migrations

TASK_NAME = "Nightly backup"


# The rows operations.schedules.schedule_task writes, written here without importing it: the
# backups now belong to operations, which accounts may not import.
def schedule_nightly_backup(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Yangon",
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "accounts.backup_nightly",
            "crontab": crontab,
            "kwargs": "{}",
            "description": (
                "Writes an encrypted database backup and a keyring into HAVEN_BACKUP_DIR, "
                "checks them, and deletes those past their retention."
            ),
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_field_verbose_names"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [migrations.RunPython(schedule_nightly_backup, unschedule)]
