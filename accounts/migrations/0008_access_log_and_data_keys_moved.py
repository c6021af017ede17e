"""AccessLog and DataKey have moved to audit and protection (Layout I): accounts forgets them.
The tables stay; only the access log's old append-only trigger is dropped, its replacement
(named after audit.AccessLog) having been installed by audit 0001."""

import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_access_log_erase"),
        ("audit", "0001_initial"),
        ("protection", "0001_initial"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(model_name="accesslog", name="access_log_append_only"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="accesslog", name="actor"),
                migrations.DeleteModel(name="DataKey"),
                migrations.DeleteModel(name="AccessLog"),
            ],
        ),
    ]
