
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0017_identifier_clash_database_default'),
        ('payments', '0009_payee_kept_on_the_line'),
        ('pghistory', '0007_auto_20250421_0444'),
        ('protection', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='paymentevent',
            name='case',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='cases.case', verbose_name='case'),
        ),
        migrations.AddIndex(
            model_name='disbursementbatchevent',
            index=models.Index(fields=['pgh_created_at', 'pgh_id'], name='payments_di_pgh_cre_9e9f45_idx'),
        ),
        migrations.AddIndex(
            model_name='disbursementbatchevent',
            index=models.Index(fields=['pgh_label', 'pgh_created_at', 'pgh_id'], name='payments_di_pgh_lab_76971a_idx'),
        ),
        migrations.AddIndex(
            model_name='fundingsourceevent',
            index=models.Index(fields=['pgh_created_at', 'pgh_id'], name='payments_fu_pgh_cre_cb8c98_idx'),
        ),
        migrations.AddIndex(
            model_name='fundingsourceevent',
            index=models.Index(fields=['pgh_label', 'pgh_created_at', 'pgh_id'], name='payments_fu_pgh_lab_efdd3f_idx'),
        ),
        migrations.AddIndex(
            model_name='oneoffapprovalevent',
            index=models.Index(fields=['pgh_created_at', 'pgh_id'], name='payments_on_pgh_cre_8d8ebc_idx'),
        ),
        migrations.AddIndex(
            model_name='oneoffapprovalevent',
            index=models.Index(fields=['pgh_label', 'pgh_created_at', 'pgh_id'], name='payments_on_pgh_lab_dd32f1_idx'),
        ),
        migrations.AddIndex(
            model_name='oneoffpaymentevent',
            index=models.Index(fields=['pgh_created_at', 'pgh_id'], name='payments_on_pgh_cre_710bdb_idx'),
        ),
        migrations.AddIndex(
            model_name='oneoffpaymentevent',
            index=models.Index(fields=['pgh_label', 'pgh_created_at', 'pgh_id'], name='payments_on_pgh_lab_979202_idx'),
        ),
        migrations.AddIndex(
            model_name='paymentevent',
            index=models.Index(fields=['pgh_created_at', 'pgh_id'], name='payments_pa_pgh_cre_cf7f09_idx'),
        ),
        migrations.AddIndex(
            model_name='paymentevent',
            index=models.Index(fields=['pgh_label', 'pgh_created_at', 'pgh_id'], name='payments_pa_pgh_lab_b872dc_idx'),
        ),
        migrations.AddIndex(
            model_name='rewardpolicyevent',
            index=models.Index(fields=['pgh_created_at', 'pgh_id'], name='payments_re_pgh_cre_d7ce34_idx'),
        ),
        migrations.AddIndex(
            model_name='rewardpolicyevent',
            index=models.Index(fields=['pgh_label', 'pgh_created_at', 'pgh_id'], name='payments_re_pgh_lab_51bf38_idx'),
        ),
        migrations.AddIndex(
            model_name='stipendplanevent',
            index=models.Index(fields=['pgh_created_at', 'pgh_id'], name='payments_st_pgh_cre_ee53f2_idx'),
        ),
        migrations.AddIndex(
            model_name='stipendplanevent',
            index=models.Index(fields=['pgh_label', 'pgh_created_at', 'pgh_id'], name='payments_st_pgh_lab_f524e0_idx'),
        ),
    ]
