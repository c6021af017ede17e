"""Creates the roles of SPEC.md as groups and grants them the permissions of accounts, Celery
results and Celery beat schedules. Each domain app grants its own permissions likewise."""

from django.db import migrations

from accounts.roles import Role, grant_permissions

ACCOUNTS_GRANTS = {
    Role.INTAKE_OFFICER: ["reveal_identity"],
    Role.VERIFIER: ["reveal_identity"],
    Role.CASE_MANAGER: ["reveal_identity"],
    Role.HOUSING_COORDINATOR: [],
    Role.FINANCE_OFFICER: [],
    Role.FINANCE_APPROVER: [],
    Role.AUDITOR: ["view_audit", "view_user", "view_accesslog"],
    Role.ADMINISTRATOR: [
        "manage_staff",
        "view_audit",
        "view_user",
        "add_user",
        "change_user",
        "view_accesslog",
    ],
}
HISTORY_GRANTS = {Role.ADMINISTRATOR: ["view_events"], Role.AUDITOR: ["view_events"]}
AUTH_GRANTS = {Role.ADMINISTRATOR: ["view_group"], Role.AUDITOR: ["view_group"]}
RESULTS_GRANTS = {
    Role.ADMINISTRATOR: ["view_taskresult", "view_groupresult"],
    Role.AUDITOR: ["view_taskresult", "view_groupresult"],
}
SCHEDULE_MODELS = ["periodictask", "crontabschedule", "intervalschedule", "clockedschedule", "solarschedule"]
BEAT_GRANTS = {
    Role.ADMINISTRATOR: [
        f"{action}_{model}" for model in SCHEDULE_MODELS for action in ("view", "add", "change", "delete")
    ],
    Role.AUDITOR: [f"view_{model}" for model in SCHEDULE_MODELS],
}


def create_roles(apps, schema_editor):
    grant_permissions(apps, schema_editor, "accounts", ACCOUNTS_GRANTS)
    grant_permissions(apps, schema_editor, "auth", AUTH_GRANTS)
    grant_permissions(apps, schema_editor, "pghistory", HISTORY_GRANTS)
    grant_permissions(apps, schema_editor, "django_celery_results", RESULTS_GRANTS)
    grant_permissions(apps, schema_editor, "django_celery_beat", BEAT_GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "__latest__"),
        ("pghistory", "__latest__"),
        ("django_celery_results", "__latest__"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
