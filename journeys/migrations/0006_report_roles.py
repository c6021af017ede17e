"""Journey statistics: coordinators, case managers and auditors see and export them,
administrators see them (the same split as case statistics)."""

from django.db import migrations

from accounts.roles import Role, grant_permissions

GRANTS = {
    Role.JOURNEY_COORDINATOR: ["view_journey_reports", "export_journey_reports"],
    Role.CASE_MANAGER: ["view_journey_reports", "export_journey_reports"],
    Role.AUDITOR: ["view_journey_reports", "export_journey_reports"],
    Role.ADMINISTRATOR: ["view_journey_reports"],
}


def grant(apps, schema_editor):
    grant_permissions(apps, schema_editor, "journeys", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("journeys", "0005_debrief_and_reports"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
