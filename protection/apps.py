"""Application config for protection: encryption of identities, blind indexes, masks, redaction."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtectionConfig(AppConfig):
    name = "protection"
    verbose_name = _("Protection of identities")

    def ready(self) -> None:
        from protection import signals  # noqa: F401  (connects the Celery task receivers)
