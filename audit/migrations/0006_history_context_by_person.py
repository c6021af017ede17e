"""The audit trail's "Who" filter finds a person's change contexts by this index, not by reading
every context ever written (one a request or task that changed something)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_access_log_code_words"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS audit_history_context_user"
            " ON pghistory_context ((metadata->>'user'))",
            "DROP INDEX IF EXISTS audit_history_context_user",
        )
    ]
