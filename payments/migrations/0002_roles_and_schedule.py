"""Grants the payments permissions to the roles, and schedules the monthly run (the 1st of each
month at 06:00 Asia/Yangon; administrators can change it in the admin)."""

from django.db import migrations

from accounts.roles import Role, grant_permissions
from operations.schedules import schedule_task, unschedule_task

MODELS = [
    "fundingsource",
    "stipendplan",
    "disbursementbatch",
    "payment",
    "oneoffpayment",
    "oneoffapproval",
    "ledgerentry",
    "rewardpolicy",
]
VIEW_ALL = [f"view_{model}" for model in MODELS]

GRANTS = {
    Role.FINANCE_OFFICER: VIEW_ALL
    + [
        "add_stipendplan",
        "change_stipendplan",
        "run_disbursement",
        "record_payout",
        "add_oneoffpayment",
        "view_finance_reports",
    ],
    Role.FINANCE_APPROVER: VIEW_ALL + ["approve_batch", "view_finance_reports"],
    Role.AUDITOR: VIEW_ALL + ["view_finance_reports"],
    Role.ADMINISTRATOR: [
        "view_rewardpolicy",
        "add_rewardpolicy",
        "change_rewardpolicy",
        "view_fundingsource",
        "add_fundingsource",
        "change_fundingsource",
        "view_finance_reports",
    ],
    Role.CASE_MANAGER: ["view_stipendplan", "view_oneoffpayment"],
}


def grant(apps, schema_editor):
    grant_permissions(apps, schema_editor, "payments", GRANTS)


def schedule_monthly_run(apps, schema_editor):
    schedule_task(
        apps,
        name="Monthly disbursement run",
        task="payments.run_monthly_disbursement",
        description="Creates the month's draft stipend batches (one per currency).",
        minute="0",
        hour="6",
        day_of_month="1",
    )


def unschedule(apps, schema_editor):
    unschedule_task(apps, "Monthly disbursement run")


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("accounts", "0002_roles"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(schedule_monthly_run, unschedule),
    ]
