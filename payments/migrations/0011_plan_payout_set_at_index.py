
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0021_duplicate_dismissal_reason_under_own_key'),
        ('payments', '0010_history_newest_first_and_case_indexes'),
        ('protection', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='stipendplan',
            index=models.Index(condition=models.Q(('payout_set_at__isnull', False)), fields=['payout_set_at'], name='plan_payout_set_at'),
        ),
    ]
