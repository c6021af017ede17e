"""The roles of SPEC.md. A role is a Django group; its permissions are granted by data
migrations, each app granting its own (see `grant_permissions`)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _


class Role:
    INTAKE_OFFICER = "Intake officer"
    VERIFIER = "Verifier"
    CASE_MANAGER = "Case manager"
    HOUSING_COORDINATOR = "Housing coordinator"
    FINANCE_OFFICER = "Finance officer"
    FINANCE_APPROVER = "Finance approver"
    JOURNEY_COORDINATOR = "Journey coordinator"
    AUDITOR = "Auditor"
    ADMINISTRATOR = "Administrator"

    ALL = (
        INTAKE_OFFICER,
        VERIFIER,
        CASE_MANAGER,
        HOUSING_COORDINATOR,
        FINANCE_OFFICER,
        FINANCE_APPROVER,
        JOURNEY_COORDINATOR,
        AUDITOR,
        ADMINISTRATOR,
    )


# The group names above are data (migrations and permissions refer to them) and stay English;
# these are the names people read.
ROLE_LABELS = {
    Role.INTAKE_OFFICER: _("Intake officer"),
    Role.VERIFIER: _("Verifier"),
    Role.CASE_MANAGER: _("Case manager"),
    Role.HOUSING_COORDINATOR: _("Housing coordinator"),
    Role.FINANCE_OFFICER: _("Finance officer"),
    Role.FINANCE_APPROVER: _("Finance approver"),
    Role.JOURNEY_COORDINATOR: _("Journey coordinator"),
    Role.AUDITOR: _("Auditor"),
    Role.ADMINISTRATOR: _("Administrator"),
}


# Where role_names keeps a user's roles, on the user object (as Django's ModelBackend keeps its
# _perm_cache): read once for the request that loaded the user, never across requests.
_ROLE_CACHE = "_haven_role_names"


def role_names(user) -> frozenset[str]:
    """The names of the user's roles (groups), read once per user object: a page that asks
    "is this an administrator?" in several places asks PostgreSQL once. The user is loaded anew
    for each request, so a role removed takes effect at the next request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, _ROLE_CACHE, None)
    if cached is None:
        cached = remember_role_names(user, user.groups.values_list("name", flat=True))
    return cached


def remember_role_names(user, names) -> frozenset[str]:
    """Keep the user's roles, read with the user (accounts.backends), for role_names."""
    cached = frozenset(names)
    setattr(user, _ROLE_CACHE, cached)
    return cached


def role_label(group_name: str) -> str:
    """The role's name in the active language; a group that is not a role keeps its own name."""
    return str(ROLE_LABELS.get(group_name, group_name))


ROLE_DESCRIPTIONS = {
    Role.INTAKE_OFFICER: _("Records new contacts and cases, edits cases in intake."),
    Role.VERIFIER: _("Works verification checklists and proposes a decision."),
    Role.CASE_MANAGER: _("Decides on verification, manages safety plans and referrals."),
    Role.HOUSING_COORDINATOR: _("Manages houses, rooms and beds; allocates and moves people."),
    Role.FINANCE_OFFICER: _("Manages stipend plans, prepares batches, records payouts."),
    Role.FINANCE_APPROVER: _("Approves or rejects batches and one-off payments."),
    Role.JOURNEY_COORDINATOR: _("Plans journeys, watches check-ins, handles escalations."),
    Role.AUDITOR: _("Reads everything, changes nothing, sees the audit trail."),
    Role.ADMINISTRATOR: _("Manages staff, roles and settings; still bound by four-eyes rules."),
}


def grant_permissions(apps, schema_editor, app_label: str, grants: dict[str, list[str]]) -> None:
    """For data migrations: give each role the listed permissions (codenames of `app_label`).

    Permissions are normally created after migrations; create them first so that a fresh
    database gets its roles in one `migrate`.
    """
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in grants.items():
        group, _created = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Unknown permissions for {app_label}: {sorted(missing)}")
        group.permissions.add(*permissions)


def require_permission(user, permission: str) -> None:
    """The one permission check that services call before they change anything."""
    if user is None or not user.is_active or not user.has_perm(permission):
        raise PermissionDenied(_("You do not have permission to do this."))
