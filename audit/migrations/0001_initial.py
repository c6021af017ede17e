"""AccessLog moves here from accounts (Layout I): the table accounts_accesslog stays as it is,
with every entry (accounts 0008 renames its content type). Its append-only trigger is named after the model's new label, so the new
trigger is installed here and the old one dropped by accounts 0008: the log is never left
unguarded in between."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
import protection.choice_labels
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("accounts", "0007_access_log_erase"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AccessLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='time')),
                        ('username', models.CharField(blank=True, max_length=150, verbose_name='user name')),
                        ('action', models.CharField(choices=[('login', 'Logged in'), ('login_failed', 'Failed login'), ('locked_out', 'Locked out'), ('logout', 'Logged out'), ('otp_failed', 'Wrong second-factor code'), ('otp_verified', 'Second factor verified'), ('otp_enrolled', 'Second factor enrolled'), ('reveal', 'Revealed a protected field'), ('export', 'Exported data'), ('denied', 'Refused for lack of permission'), ('emergency_lock', 'Emergency: locked other accounts'), ('emergency_unlock', 'Emergency: lifted a lock'), ('sessions_ended', 'Emergency: ended sessions'), ('otp_revoked', 'Emergency: revoked a second factor'), ('erase', "Erased a case's identity")], db_index=True, max_length=20, verbose_name='action')),
                        ('target_type', models.CharField(blank=True, max_length=100, verbose_name='record type')),
                        ('target_id', models.CharField(blank=True, max_length=64, verbose_name='record number')),
                        ('target_label', models.CharField(blank=True, help_text='A pseudonymous label, never a protected value.', max_length=100, verbose_name='record')),
                        ('field', models.CharField(blank=True, max_length=100, verbose_name='field')),
                        ('ip_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP address')),
                        ('detail', models.JSONField(blank=True, default=dict, verbose_name='details')),
                        ('actor', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='staff member')),
                    ],
                    options={
                        'verbose_name': 'access log entry',
                        'verbose_name_plural': 'access log',
                        'db_table': 'accounts_accesslog',
                        'ordering': ['-at', '-pk'],
                    },
                    bases=(protection.choice_labels.CachedChoiceLabels, models.Model),
                ),
            ],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='accesslog',
            trigger=pgtrigger.compiler.Trigger(name='access_log_append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='9eafadaf879b6c3cadbbbb0ecf7475f46c63994c', operation='UPDATE OR DELETE', pgid='pgtrigger_access_log_append_only_d3c16', table='accounts_accesslog', when='BEFORE')),
        ),
    ]
