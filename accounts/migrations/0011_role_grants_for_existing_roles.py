"""Roles held before grants were recorded count from the day the account was made."""

from django.db import migrations


def record_existing_grants(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    RoleGrant = apps.get_model("accounts", "RoleGrant")
    Membership = User.groups.through
    RoleGrant.objects.bulk_create(
        [
            RoleGrant(user_id=user_id, role_id=group_id, granted_at=joined)
            for user_id, group_id, joined in Membership.objects.values_list(
                "user_id", "group_id", "user__date_joined"
            )
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0010_staff_requests")]

    operations = [migrations.RunPython(record_existing_grants, migrations.RunPython.noop)]
