"""Grants the housing permissions to the roles of SPEC.md."""

from django.db import migrations

from accounts.roles import Role, grant_permissions

MODELS = ["house", "room", "bed", "allocation"]

GRANTS = {
    Role.HOUSING_COORDINATOR: [
        f"{action}_{model}" for model in MODELS for action in ("view", "add", "change")
    ]
    + ["reveal_address", "view_housing_reports"],
    Role.CASE_MANAGER: [f"view_{model}" for model in MODELS] + ["view_housing_reports"],
    Role.AUDITOR: [f"view_{model}" for model in MODELS] + ["view_housing_reports"],
    Role.ADMINISTRATOR: ["view_housing_reports"],
}


def grant(apps, schema_editor):
    grant_permissions(apps, schema_editor, "housing", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("housing", "0001_initial"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
