"""DataKey moves here from accounts (Layout I): the table accounts_datakey stays as it is, with
every key; only Django's picture of the models changes (accounts 0008 renames the content type)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("accounts", "0007_access_log_erase"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DataKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('purpose', models.CharField(db_index=True, max_length=100, verbose_name='purpose')),
                        ('wrapped_key', models.BinaryField(null=True, verbose_name='wrapped key')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('destroyed_at', models.DateTimeField(blank=True, null=True, verbose_name='destroyed at')),
                    ],
                    options={
                        'verbose_name': 'data key',
                        'verbose_name_plural': 'data keys',
                        'db_table': 'accounts_datakey',
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('destroyed_at__isnull', False), ('wrapped_key__isnull', True)), models.Q(('destroyed_at__isnull', True), ('wrapped_key__isnull', False)), _connector='OR'), name='data_key_wrapped_unless_destroyed')],
                    },
                ),
            ],
        ),
    ]
