"""Django's ModelBackend, loading the signed-in user with their roles and permissions in one query
instead of four (the user, the group names, the user's and the groups' permissions): every page
asks them several times (the navigation alone about twenty).

The query is written once in SQL from the models' tables: built by the ORM from subqueries, it
cost 4.5 ms of CPU a request to compile, more than the four simple queries it replaced; as SQL,
0.6 ms with the user. Nothing is kept across requests: the user is loaded anew for each, as
ModelBackend does, so a role or permission removed, or an account deactivated, counts at the
next request."""

from __future__ import annotations

from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.models import User
from accounts.roles import remember_role_names


@cache
def _user_sql() -> str:
    """The user %(user)s's row, with three arrays: their group names (haven_roles), their own
    permissions (haven_own_permissions) and their groups' (haven_group_permissions), each
    permission as "app_label.codename" (as ModelBackend names them)."""
    quote = connection.ops.quote_name
    memberships = User.groups.through._meta
    grants = User.user_permissions.through._meta
    group_grants = Group.permissions.through._meta
    permission = Permission._meta.db_table
    content_type = ContentType._meta.db_table
    dotted = f"ct.{quote('app_label')} || '.' || p.{quote('codename')}"
    permission_join = (
        f"{quote(permission)} p JOIN {quote(content_type)} ct "
        f"ON ct.{quote('id')} = p.{quote('content_type_id')}"
    )
    return (
        f"SELECT u.*, "
        f"ARRAY(SELECT g.{quote('name')} FROM {quote(Group._meta.db_table)} g "
        f"JOIN {quote(memberships.db_table)} m ON m.{quote('group_id')} = g.{quote('id')} "
        f"WHERE m.{quote('user_id')} = u.{quote('id')}) AS haven_roles, "
        f"ARRAY(SELECT {dotted} FROM {permission_join} "
        f"JOIN {quote(grants.db_table)} up ON up.{quote('permission_id')} = p.{quote('id')} "
        f"WHERE up.{quote('user_id')} = u.{quote('id')}) AS haven_own_permissions, "
        f"ARRAY(SELECT {dotted} FROM {permission_join} "
        f"JOIN {quote(group_grants.db_table)} gp ON gp.{quote('permission_id')} = p.{quote('id')} "
        f"JOIN {quote(memberships.db_table)} m ON m.{quote('group_id')} = gp.{quote('group_id')} "
        f"WHERE m.{quote('user_id')} = u.{quote('id')}) AS haven_group_permissions "
        f"FROM {quote(User._meta.db_table)} u WHERE u.{quote('id')} = %(user)s"
    )


class StaffBackend(ModelBackend):
    """ModelBackend whose get_user fills the caches that ModelBackend and role_names would
    otherwise fill with a query each."""

    def get_user(self, user_id):
        try:
            user_id = User._meta.pk.to_python(user_id)
        except ValidationError:  # not a user id at all
            return None
        user = next(iter(User._default_manager.raw(_user_sql(), {"user": user_id})), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        remember_role_names(user, user.haven_roles)
        # A superuser has every permission, read by ModelBackend as it always is.
        if not user.is_superuser:
            user._user_perm_cache = set(user.haven_own_permissions)
            user._group_perm_cache = set(user.haven_group_permissions)
        return user
