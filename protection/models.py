"""Wrapped data keys of envelope encryption (see protection/keys.py)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataKey(models.Model):
    """A data-encryption key, stored only wrapped (encrypted) by the master keys.

    Protected values are encrypted under a data key; destroying the wrapped key makes every
    value encrypted under it unreadable at once (crypto-erasure). Deliberately not tracked by
    pghistory: a history copy of a wrapped key would survive its destruction.
    """

    purpose = models.CharField(max_length=100, db_index=True, verbose_name=_("purpose"))
    wrapped_key = models.BinaryField(null=True, editable=False, verbose_name=_("wrapped key"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    destroyed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("destroyed at"))

    class Meta:
        # The table keeps the name it had in accounts: moving the model renamed nothing in the
        # database, so backups written before the move still restore.
        db_table = "accounts_datakey"
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(wrapped_key__isnull=True, destroyed_at__isnull=False)
                    | models.Q(wrapped_key__isnull=False, destroyed_at__isnull=True)
                ),
                name="data_key_wrapped_unless_destroyed",
            ),
        ]

    def __str__(self) -> str:
        state = _("destroyed") if self.destroyed_at else _("active")
        return f"{self.purpose} #{self.pk} ({state})"
