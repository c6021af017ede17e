"""Stays become timestamp ranges (issue 20), so that a person placed this morning can be moved or
checked out this afternoon; stays can be undone (cancelled, never deleted); a move remembers the
stay it came from.

Existing stays keep their meaning exactly: a stay of days [check-in, check-out) becomes the
moments [check-in day 00:00, check-out day 00:00) in Haven's time zone (HAVEN_TIME_ZONE). Two
stays that did not overlap as days do not overlap as those moments, so the new exclusion
constraints hold for every existing row. The change history's copies are converted the same
way (its append-only guard lifted for those statements alone). Going back works as long as no
stay is shorter than a day or cancelled."""

import django.contrib.postgres.constraints
import django.contrib.postgres.fields.ranges
import django.db.models.deletion
import django.db.models.functions.comparison
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


TABLES = ("housing_allocation", "housing_allocationevent")
# The history table is append-only (a trigger refuses updates). Converting the type of its
# copies changes no fact in them, so the guard is lifted for this transaction's statements only.
HISTORY_GUARD = "pgtrigger_append_only_f2cff"


def _lift_history_guard(schema_editor, lifted: bool) -> None:
    schema_editor.execute(
        "SELECT set_config('pgtrigger.ignore', %s, true)",
        ["{" + HISTORY_GUARD + "}" if lifted else "{}"],
    )


def days_to_moments(apps, schema_editor):
    zone = settings.TIME_ZONE
    _lift_history_guard(schema_editor, True)
    for table in TABLES:
        schema_editor.execute(
            # The table names are this migration's own constants (TABLES), never input.
            f"UPDATE {table} SET stay = tstzrange("  # nosec B608
            " lower(period)::timestamp AT TIME ZONE %s,"
            " CASE WHEN upper_inf(period) THEN NULL"
            " ELSE upper(period)::timestamp AT TIME ZONE %s END, '[)')"
            " WHERE period IS NOT NULL",
            [zone, zone],
        )
    _lift_history_guard(schema_editor, False)


def moments_to_days(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM housing_allocation WHERE cancelled_at IS NOT NULL"
            " OR (lower(stay) AT TIME ZONE %s)::date = (upper(stay) AT TIME ZONE %s)::date",
            [settings.TIME_ZONE, settings.TIME_ZONE],
        )
        (blocking,) = cursor.fetchone()
    if blocking:
        raise RuntimeError(
            f"{blocking} stays are cancelled or shorter than a day: date ranges cannot hold them."
        )
    zone = settings.TIME_ZONE
    _lift_history_guard(schema_editor, True)
    for table in TABLES:
        schema_editor.execute(
            # The table names are this migration's own constants (TABLES), never input.
            f"UPDATE {table} SET period = daterange("  # nosec B608
            " (lower(stay) AT TIME ZONE %s)::date, (upper(stay) AT TIME ZONE %s)::date, '[)')"
            " WHERE stay IS NOT NULL",
            [zone, zone],
        )
    _lift_history_guard(schema_editor, False)


class Migration(migrations.Migration):
    dependencies = [
        ("housing", "0004_data_key_in_protection"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="allocation",
            options={
                "ordering": ["-stay"],
                "verbose_name": "allocation",
                "verbose_name_plural": "allocations",
            },
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="allocation",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="allocation",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="allocation",
            name="delete_delete",
        ),
        migrations.RemoveConstraint(
            model_name="allocation",
            name="bed_never_double_booked",
        ),
        migrations.RemoveConstraint(
            model_name="allocation",
            name="person_in_one_bed_at_a_time",
        ),
        migrations.RemoveConstraint(
            model_name="allocation",
            name="allocation_has_a_start_and_is_not_empty",
        ),
        migrations.AddField(
            model_name="allocation",
            name="cancel_reason",
            field=models.CharField(
                blank=True, max_length=500, verbose_name="reason for the cancellation"
            ),
        ),
        migrations.AddField(
            model_name="allocation",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="cancelled at"),
        ),
        migrations.AddField(
            model_name="allocation",
            name="cancelled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="cancelled by",
            ),
        ),
        migrations.AddField(
            model_name="allocation",
            name="moved_from",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="housing.allocation",
                verbose_name="moved from",
            ),
        ),
        migrations.AddField(
            model_name="allocation",
            name="stay",
            field=django.contrib.postgres.fields.ranges.DateTimeRangeField(
                null=True, verbose_name="stay"
            ),
        ),
        migrations.AddField(
            model_name="allocationevent",
            name="cancel_reason",
            field=models.CharField(
                blank=True, max_length=500, verbose_name="reason for the cancellation"
            ),
        ),
        migrations.AddField(
            model_name="allocationevent",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="cancelled at"),
        ),
        migrations.AddField(
            model_name="allocationevent",
            name="cancelled_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="cancelled by",
            ),
        ),
        migrations.AddField(
            model_name="allocationevent",
            name="moved_from",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="housing.allocation",
                verbose_name="moved from",
            ),
        ),
        migrations.AddField(
            model_name="allocationevent",
            name="stay",
            field=django.contrib.postgres.fields.ranges.DateTimeRangeField(
                null=True, verbose_name="stay"
            ),
        ),
        migrations.RunPython(days_to_moments, moments_to_days),
        # Nullable first, so that going back can add the column again before filling it.
        migrations.AlterField(
            model_name="allocation",
            name="period",
            field=django.contrib.postgres.fields.ranges.DateRangeField(
                null=True, verbose_name="stay"
            ),
        ),
        migrations.RemoveField(
            model_name="allocation",
            name="period",
        ),
        migrations.RemoveField(
            model_name="allocationevent",
            name="period",
        ),
        migrations.AlterField(
            model_name="allocation",
            name="stay",
            field=django.contrib.postgres.fields.ranges.DateTimeRangeField(verbose_name="stay"),
        ),
        migrations.AlterField(
            model_name="allocationevent",
            name="stay",
            field=django.contrib.postgres.fields.ranges.DateTimeRangeField(verbose_name="stay"),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="allocation",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "housing_allocationevent" ("bed_id", "cancel_reason", "cancelled_at", "cancelled_by_id", "case_id", "checked_in_by_id", "checked_out_at", "checked_out_by_id", "created_at", "family_member_id", "id", "move_reason", "moved_from_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "stay") VALUES (NEW."bed_id", NEW."cancel_reason", NEW."cancelled_at", NEW."cancelled_by_id", NEW."case_id", NEW."checked_in_by_id", NEW."checked_out_at", NEW."checked_out_by_id", NEW."created_at", NEW."family_member_id", NEW."id", NEW."move_reason", NEW."moved_from_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."stay"); RETURN NULL;',
                    hash="0ff08bd60610cf1236ac14c6d9a7222430da281d",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_376ac",
                    table="housing_allocation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="allocation",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "housing_allocationevent" ("bed_id", "cancel_reason", "cancelled_at", "cancelled_by_id", "case_id", "checked_in_by_id", "checked_out_at", "checked_out_by_id", "created_at", "family_member_id", "id", "move_reason", "moved_from_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "stay") VALUES (NEW."bed_id", NEW."cancel_reason", NEW."cancelled_at", NEW."cancelled_by_id", NEW."case_id", NEW."checked_in_by_id", NEW."checked_out_at", NEW."checked_out_by_id", NEW."created_at", NEW."family_member_id", NEW."id", NEW."move_reason", NEW."moved_from_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."stay"); RETURN NULL;',
                    hash="8e02dd44486e8ed2d592dbec8b12f776e244041a",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_16527",
                    table="housing_allocation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="allocation",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "housing_allocationevent" ("bed_id", "cancel_reason", "cancelled_at", "cancelled_by_id", "case_id", "checked_in_by_id", "checked_out_at", "checked_out_by_id", "created_at", "family_member_id", "id", "move_reason", "moved_from_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "stay") VALUES (OLD."bed_id", OLD."cancel_reason", OLD."cancelled_at", OLD."cancelled_by_id", OLD."case_id", OLD."checked_in_by_id", OLD."checked_out_at", OLD."checked_out_by_id", OLD."created_at", OLD."family_member_id", OLD."id", OLD."move_reason", OLD."moved_from_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."stay"); RETURN NULL;',
                    hash="4f821f5c2f88506a91043c642e4d93ed059192a9",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_fa1fb",
                    table="housing_allocation",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                condition=models.Q(("cancelled_at__isnull", True)),
                expressions=[("bed", "="), ("stay", "&&")],
                name="bed_never_double_booked",
            ),
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                condition=models.Q(("cancelled_at__isnull", True)),
                expressions=[
                    ("case", "="),
                    (
                        django.db.models.functions.comparison.Coalesce(
                            "family_member", models.Value(0)
                        ),
                        "=",
                    ),
                    ("stay", "&&"),
                ],
                name="person_in_one_bed_at_a_time",
            ),
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=models.CheckConstraint(
                condition=models.Q(("stay__isempty", False), ("stay__lower_inf", False)),
                name="allocation_has_a_start_and_is_not_empty",
            ),
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("cancelled_at__isnull", True),
                    models.Q(
                        ("cancelled_by__isnull", False),
                        models.Q(("cancel_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="allocation_cancellation_has_who_and_why",
            ),
        ),
    ]
