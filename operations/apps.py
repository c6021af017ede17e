"""Application config for operations: backups, restore, health, task queueing, schedules."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from operations import health, schedules

        # The nightly backup: late once a day and a bit has gone by without one.
        health.watch("accounts.backup_nightly", minutes=26 * 60)
        schedules.allow_schedule("accounts.backup_nightly")
        # The sweep of exports (expired files destroyed, stuck jobs failed) runs every ten
        # minutes: an hour without it and the administrators hear.
        health.watch("operations.sweep_exports", minutes=60)
        schedules.allow_schedule("operations.sweep_exports")
