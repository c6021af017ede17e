"""Application config for accounts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Staff and security")

    def ready(self) -> None:
        from accounts import signals  # noqa: F401  (connects login/lockout receivers)
