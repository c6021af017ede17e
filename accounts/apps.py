"""Application config for accounts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Staff and security")

    def ready(self) -> None:
        from accounts import navigation, signals  # noqa: F401  (signals connects receivers)

        navigation.register(label=_("Home"), url_name="home", permission=None, order=0)
        navigation.register(
            label=_("Staff"),
            url_name="accounts:staff_list",
            permission="accounts.manage_staff",
            order=900,
            group=_("Oversight"),
        )
        navigation.register(
            label=_("Staff requests"),
            url_name="accounts:staff_requests",
            permission="accounts.manage_staff",
            order=905,
            group=_("Oversight"),
        )
        # The audit pages' entries are registered here: navigation belongs to accounts, which
        # the audit app may not import.
        navigation.register(
            label=_("Audit trail"),
            url_name="audit:audit_trail",
            permission="accounts.view_audit",
            order=910,
            group=_("Oversight"),
        )
        navigation.register(
            label=_("Access log"),
            url_name="audit:access_log",
            permission="accounts.view_audit",
            order=920,
            group=_("Oversight"),
        )
        navigation.register(
            label=_("Emergency"),
            url_name="accounts:emergency",
            permission="accounts.use_emergency_controls",
            order=990,
            group=_("Oversight"),
        )
