"""Erasure requests (two approvers, see cases/erasure.py): the model, who may request and
approve, and the nightly retention-rule proposals (03:30 Asia/Yangon; editable in the admin)."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

from accounts.roles import Role, grant_permissions
from operations.schedules import schedule_task, unschedule_task

GRANTS = {
    Role.CASE_MANAGER: ["view_erasurerequest", "request_erasure", "approve_erasure"],
    Role.ADMINISTRATOR: ["view_erasurerequest", "request_erasure", "approve_erasure"],
    Role.AUDITOR: ["view_erasurerequest"],
}
TASK_NAME = "Propose erasures (retention rule)"


def grant(apps, schema_editor):
    grant_permissions(apps, schema_editor, "cases", GRANTS)


def schedule_nightly_proposals(apps, schema_editor):
    schedule_task(
        apps,
        name=TASK_NAME,
        task="cases.propose_erasures",
        description=(
            "Proposes the erasure of cases closed longer than "
            "HAVEN_ERASURE_AFTER_CLOSURE_DAYS; each proposal still needs two approvals."
        ),
        minute="30",
        hour="3",
    )


def unschedule(apps, schema_editor):
    unschedule_task(apps, TASK_NAME)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_field_verbose_names'),
        ('pghistory', '0007_auto_20250421_0444'),
        ('accounts', '0002_roles'),
        ('django_celery_beat', '__latest__'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ErasureRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(choices=[('person_request', 'On request of the person'), ('retention', 'Retention rule'), ('other', 'Other')], max_length=16, verbose_name='reason')),
                ('note', models.CharField(blank=True, help_text='Not encrypted, and kept after the erasure: never write a name, number, place or anything else that could identify the person.', max_length=500, verbose_name='note')),
                ('status', models.CharField(choices=[('proposed', 'Awaiting approval'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('carried_out', 'Carried out'), ('cancelled', 'Cancelled')], default='proposed', max_length=12, verbose_name='status')),
                ('proposed_by_rule', models.BooleanField(default=False, verbose_name='proposed by the retention rule')),
                ('requested_at', models.DateTimeField(auto_now_add=True, verbose_name='requested at')),
                ('first_approved_at', models.DateTimeField(blank=True, null=True, verbose_name='first approval at')),
                ('second_approved_at', models.DateTimeField(blank=True, null=True, verbose_name='second approval at')),
                ('rejected_at', models.DateTimeField(blank=True, null=True, verbose_name='rejected at')),
                ('rejection_reason', models.CharField(blank=True, max_length=500, verbose_name='reason for the rejection')),
                ('cancelled_at', models.DateTimeField(blank=True, null=True, verbose_name='cancelled at')),
                ('carried_out_at', models.DateTimeField(blank=True, null=True, verbose_name='carried out at')),
                ('cancelled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='cancelled by')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='erasure_requests', to='cases.case', verbose_name='case')),
                ('first_approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='first approval by')),
                ('rejected_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='rejected by')),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
                ('second_approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='second approval by')),
            ],
            options={
                'verbose_name': 'erasure request',
                'verbose_name_plural': 'erasure requests',
                'ordering': ['-requested_at', '-pk'],
                'permissions': [('request_erasure', "Can request the erasure of a case's identity"), ('approve_erasure', "Can approve or reject the erasure of a case's identity")],
            },
        ),
        migrations.CreateModel(
            name='ErasureRequestEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('reason', models.CharField(choices=[('person_request', 'On request of the person'), ('retention', 'Retention rule'), ('other', 'Other')], max_length=16, verbose_name='reason')),
                ('note', models.CharField(blank=True, help_text='Not encrypted, and kept after the erasure: never write a name, number, place or anything else that could identify the person.', max_length=500, verbose_name='note')),
                ('status', models.CharField(choices=[('proposed', 'Awaiting approval'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('carried_out', 'Carried out'), ('cancelled', 'Cancelled')], default='proposed', max_length=12, verbose_name='status')),
                ('proposed_by_rule', models.BooleanField(default=False, verbose_name='proposed by the retention rule')),
                ('requested_at', models.DateTimeField(auto_now_add=True, verbose_name='requested at')),
                ('first_approved_at', models.DateTimeField(blank=True, null=True, verbose_name='first approval at')),
                ('second_approved_at', models.DateTimeField(blank=True, null=True, verbose_name='second approval at')),
                ('rejected_at', models.DateTimeField(blank=True, null=True, verbose_name='rejected at')),
                ('rejection_reason', models.CharField(blank=True, max_length=500, verbose_name='reason for the rejection')),
                ('cancelled_at', models.DateTimeField(blank=True, null=True, verbose_name='cancelled at')),
                ('carried_out_at', models.DateTimeField(blank=True, null=True, verbose_name='carried out at')),
                ('cancelled_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL, verbose_name='cancelled by')),
                ('case', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='cases.case', verbose_name='case')),
                ('first_approved_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL, verbose_name='first approval by')),
                ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
                ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='cases.erasurerequest')),
                ('rejected_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL, verbose_name='rejected by')),
                ('requested_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
                ('second_approved_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL, verbose_name='second approval by')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('proposed_by_rule', True), ('requested_by__isnull', True)), models.Q(('proposed_by_rule', False), ('requested_by__isnull', False)), _connector='OR'), name='erasure_requested_by_person_or_rule'),
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.CheckConstraint(condition=models.Q(('first_approved_by__isnull', True), ('requested_by__isnull', True), models.Q(('first_approved_by', models.F('requested_by')), _negated=True), _connector='OR'), name='erasure_first_approver_not_requester'),
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.CheckConstraint(condition=models.Q(('second_approved_by__isnull', True), ('requested_by__isnull', True), models.Q(('second_approved_by', models.F('requested_by')), _negated=True), _connector='OR'), name='erasure_second_approver_not_requester'),
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.CheckConstraint(condition=models.Q(('second_approved_by__isnull', True), ('first_approved_by__isnull', True), models.Q(('second_approved_by', models.F('first_approved_by')), _negated=True), _connector='OR'), name='erasure_two_different_approvers'),
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.CheckConstraint(condition=models.Q(('second_approved_by__isnull', True), ('first_approved_by__isnull', False), _connector='OR'), name='erasure_second_approval_after_first'),
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('first_approved_at__isnull', True), ('first_approved_by__isnull', True)), models.Q(('first_approved_at__isnull', False), ('first_approved_by__isnull', False)), _connector='OR'), name='erasure_first_approval_has_who_and_when'),
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('second_approved_at__isnull', True), ('second_approved_by__isnull', True)), models.Q(('second_approved_at__isnull', False), ('second_approved_by__isnull', False)), _connector='OR'), name='erasure_second_approval_has_who_and_when'),
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('rejected_at__isnull', True), ('rejected_by__isnull', True)), models.Q(('rejected_at__isnull', False), ('rejected_by__isnull', False)), _connector='OR'), name='erasure_rejection_has_who_and_when'),
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('cancelled_at__isnull', True), ('carried_out_at__isnull', True), ('rejected_at__isnull', True), ('second_approved_by__isnull', True), ('status', 'proposed')), models.Q(('cancelled_at__isnull', True), ('carried_out_at__isnull', True), ('rejected_at__isnull', True), ('second_approved_by__isnull', False), ('status', 'approved')), models.Q(('cancelled_at__isnull', True), ('carried_out_at__isnull', False), ('rejected_at__isnull', True), ('second_approved_by__isnull', False), ('status', 'carried_out')), models.Q(('cancelled_at__isnull', True), ('carried_out_at__isnull', True), ('rejected_at__isnull', False), ('second_approved_by__isnull', True), ('status', 'rejected'), models.Q(('rejection_reason', ''), _negated=True)), models.Q(('cancelled_at__isnull', False), ('carried_out_at__isnull', True), ('rejected_at__isnull', True), ('second_approved_by__isnull', True), ('status', 'cancelled')), _connector='OR'), name='erasure_status_consistent'),
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ('proposed', 'approved'))), fields=('case',), name='one_open_erasure_request_per_case'),
        ),
        migrations.AddConstraint(
            model_name='erasurerequest',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'carried_out')), fields=('case',), name='one_erasure_per_case'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='erasurerequest',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "cases_erasurerequestevent" ("cancelled_at", "cancelled_by_id", "carried_out_at", "case_id", "first_approved_at", "first_approved_by_id", "id", "note", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "proposed_by_rule", "reason", "rejected_at", "rejected_by_id", "rejection_reason", "requested_at", "requested_by_id", "second_approved_at", "second_approved_by_id", "status") VALUES (NEW."cancelled_at", NEW."cancelled_by_id", NEW."carried_out_at", NEW."case_id", NEW."first_approved_at", NEW."first_approved_by_id", NEW."id", NEW."note", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."proposed_by_rule", NEW."reason", NEW."rejected_at", NEW."rejected_by_id", NEW."rejection_reason", NEW."requested_at", NEW."requested_by_id", NEW."second_approved_at", NEW."second_approved_by_id", NEW."status"); RETURN NULL;', hash='b106981f7fcd05b72b1789be909537f863a68e72', operation='INSERT', pgid='pgtrigger_insert_insert_085f7', table='cases_erasurerequest', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='erasurerequest',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "cases_erasurerequestevent" ("cancelled_at", "cancelled_by_id", "carried_out_at", "case_id", "first_approved_at", "first_approved_by_id", "id", "note", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "proposed_by_rule", "reason", "rejected_at", "rejected_by_id", "rejection_reason", "requested_at", "requested_by_id", "second_approved_at", "second_approved_by_id", "status") VALUES (NEW."cancelled_at", NEW."cancelled_by_id", NEW."carried_out_at", NEW."case_id", NEW."first_approved_at", NEW."first_approved_by_id", NEW."id", NEW."note", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."proposed_by_rule", NEW."reason", NEW."rejected_at", NEW."rejected_by_id", NEW."rejection_reason", NEW."requested_at", NEW."requested_by_id", NEW."second_approved_at", NEW."second_approved_by_id", NEW."status"); RETURN NULL;', hash='cbc476b5e7a2a4f40294a1a184630e68f27b205c', operation='UPDATE', pgid='pgtrigger_update_update_4c92d', table='cases_erasurerequest', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='erasurerequest',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "cases_erasurerequestevent" ("cancelled_at", "cancelled_by_id", "carried_out_at", "case_id", "first_approved_at", "first_approved_by_id", "id", "note", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "proposed_by_rule", "reason", "rejected_at", "rejected_by_id", "rejection_reason", "requested_at", "requested_by_id", "second_approved_at", "second_approved_by_id", "status") VALUES (OLD."cancelled_at", OLD."cancelled_by_id", OLD."carried_out_at", OLD."case_id", OLD."first_approved_at", OLD."first_approved_by_id", OLD."id", OLD."note", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."proposed_by_rule", OLD."reason", OLD."rejected_at", OLD."rejected_by_id", OLD."rejection_reason", OLD."requested_at", OLD."requested_by_id", OLD."second_approved_at", OLD."second_approved_by_id", OLD."status"); RETURN NULL;', hash='8cf858914ea391ce1bb41dc8b3cddd6960b9a65f', operation='DELETE', pgid='pgtrigger_delete_delete_7b149', table='cases_erasurerequest', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='erasurerequestevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='00dd6fba7a3bc57647c7183924af703c37da95aa', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_7d80c', table='cases_erasurerequestevent', when='BEFORE')),
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(schedule_nightly_proposals, unschedule),
    ]
