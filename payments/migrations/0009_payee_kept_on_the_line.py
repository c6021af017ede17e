
import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
import protection.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0008_encrypt_one_off_texts_and_references'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='payment',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='payment',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='payment',
            name='delete_delete',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='stipendplan',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='stipendplan',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='stipendplan',
            name='delete_delete',
        ),
        migrations.AddField(
            model_name='payment',
            name='payee_account',
            field=protection.fields.EncryptedField(blank=True, max_plaintext_length=40, null=True, verbose_name='wallet or bank account'),
        ),
        migrations.AddField(
            model_name='payment',
            name='payee_method',
            field=models.CharField(blank=True, choices=[('cash', 'Cash against acknowledgement'), ('mobile_money', 'Mobile money'), ('bank_transfer', 'Bank transfer')], db_default='', default='', max_length=14, verbose_name='payout method'),
        ),
        migrations.AddField(
            model_name='paymentevent',
            name='payee_account',
            field=protection.fields.EncryptedField(blank=True, max_plaintext_length=40, null=True, verbose_name='wallet or bank account'),
        ),
        migrations.AddField(
            model_name='paymentevent',
            name='payee_method',
            field=models.CharField(blank=True, choices=[('cash', 'Cash against acknowledgement'), ('mobile_money', 'Mobile money'), ('bank_transfer', 'Bank transfer')], db_default='', default='', max_length=14, verbose_name='payout method'),
        ),
        migrations.AddField(
            model_name='stipendplan',
            name='payout_set_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='payout set at'),
        ),
        migrations.AddField(
            model_name='stipendplan',
            name='payout_set_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='payout set by'),
        ),
        migrations.AddField(
            model_name='stipendplanevent',
            name='payout_set_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='payout set at'),
        ),
        migrations.AddField(
            model_name='stipendplanevent',
            name='payout_set_by',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL, verbose_name='payout set by'),
        ),
        # Lines written before a line kept its own payee take their plan's payout as it is
        # now: those still to be paid, and last month's (closed) lines that the next batch's
        # approval compares with. Done before the history triggers are back, so the copy is
        # not recorded as a change by anyone. Older closed lines are left as they were.
        migrations.RunSQL(
            sql="""
                UPDATE payments_payment AS line
                SET payee_method = plan.payout_method, payee_account = plan.payout_account
                FROM payments_stipendplan AS plan, payments_disbursementbatch AS batch
                WHERE plan.id = line.plan_id AND batch.id = line.batch_id
                  AND batch.status <> 'rejected'
                  AND batch.period >= COALESCE(
                      (SELECT max(closed.period) FROM payments_disbursementbatch AS closed
                       WHERE closed.currency = batch.currency AND closed.status = 'closed'),
                      '-infinity'::date)
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='payment',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='WITH _pgh_attached_context AS ( SELECT _pgh_attach_context() AS value ) INSERT INTO "payments_paymentevent" ("acknowledged", "amount", "batch_id", "carried_from_id", "carry_forward", "case_id", "currency", "funding_source_id", "id", "method", "one_off_id", "payee_account", "payee_method", "period", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plan_id", "record_token", "recorded_at", "recorded_by_id", "reference", "status") SELECT new_values."acknowledged", new_values."amount", new_values."batch_id", new_values."carried_from_id", new_values."carry_forward", new_values."case_id", new_values."currency", new_values."funding_source_id", new_values."id", new_values."method", new_values."one_off_id", new_values."payee_account", new_values."payee_method", new_values."period", _pgh_attached_context.value, NOW(), \'insert\', new_values."id", new_values."plan_id", new_values."record_token", new_values."recorded_at", new_values."recorded_by_id", new_values."reference", new_values."status" FROM ( SELECT new_values.* FROM new_values  ) AS new_values, _pgh_attached_context; RETURN NULL;', hash='642e708896e4b4efaba99a6104cf5fe980172308', level='STATEMENT', operation='INSERT', pgid='pgtrigger_insert_insert_24a65', referencing='REFERENCING NEW TABLE AS new_values ', table='payments_payment', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='payment',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(func='WITH _pgh_attached_context AS ( SELECT _pgh_attach_context() AS value ) INSERT INTO "payments_paymentevent" ("acknowledged", "amount", "batch_id", "carried_from_id", "carry_forward", "case_id", "currency", "funding_source_id", "id", "method", "one_off_id", "payee_account", "payee_method", "period", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plan_id", "record_token", "recorded_at", "recorded_by_id", "reference", "status") SELECT new_values."acknowledged", new_values."amount", new_values."batch_id", new_values."carried_from_id", new_values."carry_forward", new_values."case_id", new_values."currency", new_values."funding_source_id", new_values."id", new_values."method", new_values."one_off_id", new_values."payee_account", new_values."payee_method", new_values."period", _pgh_attached_context.value, NOW(), \'update\', new_values."id", new_values."plan_id", new_values."record_token", new_values."recorded_at", new_values."recorded_by_id", new_values."reference", new_values."status" FROM ( SELECT new_values.* FROM old_values JOIN new_values ON (old_values."id") = (new_values."id") WHERE (old_values.* IS DISTINCT FROM new_values.*) ) AS new_values, _pgh_attached_context; RETURN NULL;', hash='6fa9060c08924703789d1566bd5b4f57172021dc', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_update_update_dd546', referencing='REFERENCING OLD TABLE AS old_values  NEW TABLE AS new_values ', table='payments_payment', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='payment',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='WITH _pgh_attached_context AS ( SELECT _pgh_attach_context() AS value ) INSERT INTO "payments_paymentevent" ("acknowledged", "amount", "batch_id", "carried_from_id", "carry_forward", "case_id", "currency", "funding_source_id", "id", "method", "one_off_id", "payee_account", "payee_method", "period", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plan_id", "record_token", "recorded_at", "recorded_by_id", "reference", "status") SELECT old_values."acknowledged", old_values."amount", old_values."batch_id", old_values."carried_from_id", old_values."carry_forward", old_values."case_id", old_values."currency", old_values."funding_source_id", old_values."id", old_values."method", old_values."one_off_id", old_values."payee_account", old_values."payee_method", old_values."period", _pgh_attached_context.value, NOW(), \'delete\', old_values."id", old_values."plan_id", old_values."record_token", old_values."recorded_at", old_values."recorded_by_id", old_values."reference", old_values."status" FROM ( SELECT old_values.* FROM old_values  ) AS old_values, _pgh_attached_context; RETURN NULL;', hash='91c7e247c6c1fc7f5d2d867b926c60fd4f5b9cfc', level='STATEMENT', operation='DELETE', pgid='pgtrigger_delete_delete_b2c62', referencing='REFERENCING OLD TABLE AS old_values ', table='payments_payment', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='stipendplan',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "payments_stipendplanevent" ("amount", "case_id", "created_at", "created_by_id", "currency", "data_key_id", "end_date", "funding_source_id", "id", "payout_account", "payout_method", "payout_set_at", "payout_set_by_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "start_date", "status", "updated_at") VALUES (NEW."amount", NEW."case_id", NEW."created_at", NEW."created_by_id", NEW."currency", NEW."data_key_id", NEW."end_date", NEW."funding_source_id", NEW."id", NEW."payout_account", NEW."payout_method", NEW."payout_set_at", NEW."payout_set_by_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."start_date", NEW."status", NEW."updated_at"); RETURN NULL;', hash='484bbe1f3f1999a492ad6c301ea225e2f5a7ddaf', operation='INSERT', pgid='pgtrigger_insert_insert_8594e', table='payments_stipendplan', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='stipendplan',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "payments_stipendplanevent" ("amount", "case_id", "created_at", "created_by_id", "currency", "data_key_id", "end_date", "funding_source_id", "id", "payout_account", "payout_method", "payout_set_at", "payout_set_by_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "start_date", "status", "updated_at") VALUES (NEW."amount", NEW."case_id", NEW."created_at", NEW."created_by_id", NEW."currency", NEW."data_key_id", NEW."end_date", NEW."funding_source_id", NEW."id", NEW."payout_account", NEW."payout_method", NEW."payout_set_at", NEW."payout_set_by_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."start_date", NEW."status", NEW."updated_at"); RETURN NULL;', hash='7cabf3e45668a55b9ff3ec19523aee83399a58b8', operation='UPDATE', pgid='pgtrigger_update_update_720c2', table='payments_stipendplan', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='stipendplan',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "payments_stipendplanevent" ("amount", "case_id", "created_at", "created_by_id", "currency", "data_key_id", "end_date", "funding_source_id", "id", "payout_account", "payout_method", "payout_set_at", "payout_set_by_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "start_date", "status", "updated_at") VALUES (OLD."amount", OLD."case_id", OLD."created_at", OLD."created_by_id", OLD."currency", OLD."data_key_id", OLD."end_date", OLD."funding_source_id", OLD."id", OLD."payout_account", OLD."payout_method", OLD."payout_set_at", OLD."payout_set_by_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."start_date", OLD."status", OLD."updated_at"); RETURN NULL;', hash='778429bcad47afdda9dc64a900ff77fae0241e20', operation='DELETE', pgid='pgtrigger_delete_delete_73fcd', table='payments_stipendplan', when='AFTER')),
        ),
    ]
