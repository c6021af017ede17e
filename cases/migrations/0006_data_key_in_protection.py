"""The data-key foreign keys now name protection.DataKey (Layout I). The table is the same, so
only Django's picture of the models changes; the database is left as it is."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_erasure'),
        ('protection', '0001_initial'),
    ]

    # accounts stops knowing DataKey only once every foreign key names its new home.
    run_before = [("accounts", "0008_access_log_and_data_keys_moved")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='data_key',
                    field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='protection.datakey', verbose_name='data key'),
                ),
                migrations.AlterField(
                    model_name='caseevent',
                    name='data_key',
                    field=models.ForeignKey(db_constraint=False, editable=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='protection.datakey', verbose_name='data key'),
                ),
                migrations.AlterField(
                    model_name='casenote',
                    name='data_key',
                    field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='protection.datakey', verbose_name='data key'),
                ),
                migrations.AlterField(
                    model_name='casenoteevent',
                    name='data_key',
                    field=models.ForeignKey(db_constraint=False, editable=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='protection.datakey', verbose_name='data key'),
                ),
                migrations.AlterField(
                    model_name='evidence',
                    name='data_key',
                    field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='protection.datakey', verbose_name='data key'),
                ),
                migrations.AlterField(
                    model_name='evidenceevent',
                    name='data_key',
                    field=models.ForeignKey(db_constraint=False, editable=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='protection.datakey', verbose_name='data key'),
                ),
                migrations.AlterField(
                    model_name='familymember',
                    name='data_key',
                    field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='protection.datakey', verbose_name='data key'),
                ),
                migrations.AlterField(
                    model_name='familymemberevent',
                    name='data_key',
                    field=models.ForeignKey(db_constraint=False, editable=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='protection.datakey', verbose_name='data key'),
                ),
                migrations.AlterField(
                    model_name='verificationcheck',
                    name='data_key',
                    field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='protection.datakey', verbose_name='data key'),
                ),
                migrations.AlterField(
                    model_name='verificationcheckevent',
                    name='data_key',
                    field=models.ForeignKey(db_constraint=False, editable=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='protection.datakey', verbose_name='data key'),
                ),
            ],
        ),
    ]
