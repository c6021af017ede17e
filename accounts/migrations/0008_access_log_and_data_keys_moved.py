"""AccessLog and DataKey have moved to audit and protection (Layout I): accounts forgets them.
The tables stay; only the access log's old append-only trigger is dropped, its replacement
(named after audit.AccessLog) having been installed by audit 0001. Their content types are
renamed rather than made anew, so the permissions granted on them stay granted."""

import pgtrigger.migrations
from django.db import migrations

MOVED = {"accesslog": "audit", "datakey": "protection"}


def relabel_content_types(apps, schema_editor):
    _relabel(apps, schema_editor, {model: ("accounts", new) for model, new in MOVED.items()})


def relabel_content_types_back(apps, schema_editor):
    _relabel(apps, schema_editor, {model: (new, "accounts") for model, new in MOVED.items()})


def _relabel(apps, schema_editor, moves):
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(
        schema_editor.connection.alias
    )
    for model, (old, new) in moves.items():
        if not content_types.filter(app_label=new, model=model).exists():
            content_types.filter(app_label=old, model=model).update(app_label=new)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_access_log_erase"),
        ("audit", "0001_initial"),
        ("protection", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
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
        migrations.RunPython(relabel_content_types, relabel_content_types_back),
    ]
