"""Creates the role Journey coordinator with the journey permissions, lets the case team's
roles handle journeys, and schedules the sweep of missed check-ins every minute."""

from django.db import migrations

from accounts.roles import Role, grant_permissions
from operations.schedules import schedule_task, unschedule_task

HANDLER = ["view_journey", "handle_journey"]
GRANTS = {
    Role.JOURNEY_COORDINATOR: [*HANDLER, "plan_journey", "watch_journeys"],
    Role.CASE_MANAGER: HANDLER,
    Role.INTAKE_OFFICER: HANDLER,
    Role.VERIFIER: HANDLER,
}
SCHEDULE = "Escalate missed check-ins"


def grant(apps, schema_editor):
    grant_permissions(apps, schema_editor, "journeys", GRANTS)


def schedule(apps, schema_editor):
    schedule_task(
        apps,
        name=SCHEDULE,
        task="journeys.escalate",
        description="Finds the check-ins missed past their grace period and escalates them: "
        "lead handler, then backup handler and coordinators, then the contingency incident.",
        minute="*",
        hour="*",
    )


def unschedule(apps, schema_editor):
    unschedule_task(apps, SCHEDULE)


class Migration(migrations.Migration):
    dependencies = [
        ("journeys", "0001_initial"),
        ("accounts", "0002_roles"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule),
    ]
