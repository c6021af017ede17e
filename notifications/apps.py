"""Application config for notifications: in-app alerts and their delivery by Apprise."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from notifications import kinds, security  # noqa: F401  (alert kinds, receivers)
        from notifications.services import notify_export_finished
        from operations import health, schedules
        from operations.signals import export_finished

        # The sweep that re-sends undelivered alerts runs every five minutes; the watchdog,
        # which watches it, is itself watched by /healthz.
        health.watch("notifications.redeliver", minutes=20)
        health.watch("notifications.watchdog", minutes=20)
        schedules.allow_schedule("notifications.redeliver")
        schedules.allow_schedule("notifications.watchdog")
        export_finished.connect(notify_export_finished, dispatch_uid="notifications.exports")
