"""Schedules the nightly backup (02:30 Asia/Yangon; administrators can change it in the admin
under Periodic tasks)."""

from django.db import migrations

from accounts.schedules import schedule_task, unschedule_task

TASK_NAME = "Nightly backup"


def schedule_nightly_backup(apps, schema_editor):
    schedule_task(
        apps,
        name=TASK_NAME,
        task="accounts.backup_nightly",
        description=(
            "Writes an encrypted database backup and a keyring into HAVEN_BACKUP_DIR, "
            "checks them, and deletes those past their retention."
        ),
        minute="30",
        hour="2",
    )


def unschedule(apps, schema_editor):
    unschedule_task(apps, TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_field_verbose_names"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [migrations.RunPython(schedule_nightly_backup, unschedule)]
