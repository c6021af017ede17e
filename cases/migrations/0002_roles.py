"""Grants the case permissions to the roles of SPEC.md."""

from django.db import migrations

from accounts.roles import Role, grant_permissions

CASE_MODELS = [
    "case",
    "familymember",
    "itembrought",
    "evidence",
    "verificationcheck",
    "referral",
    "casenote",
    "journeyevent",
    "duplicatedismissal",
]

GRANTS = {
    Role.INTAKE_OFFICER: ["view_case", "add_case", "change_case", "view_case_reports"],
    Role.VERIFIER: ["view_case", "verify_case", "view_case_reports"],
    Role.CASE_MANAGER: [
        "view_case",
        "change_case",
        "decide_case",
        "manage_safety",
        "review_duplicates",
        "view_case_reports",
        "export_case_reports",
    ],
    Role.AUDITOR: [f"view_{model}" for model in CASE_MODELS]
    + ["view_case_reports", "export_case_reports"],
    Role.ADMINISTRATOR: ["view_case_reports"],
}


def grant(apps, schema_editor):
    grant_permissions(apps, schema_editor, "cases", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
