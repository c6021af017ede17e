"""Staff users, wrapped data keys for envelope encryption, and the append-only access log."""

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.history import field_labels, track_history


@track_history(exclude=["password", "last_login"])
class User(AbstractUser):
    """A member of staff. Roles are Django groups (see accounts/roles.py)."""

    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["username"]
        permissions = [
            ("reveal_identity", _("Can reveal protected identity fields")),
            ("view_audit", _("Can read the audit trail and the access log")),
            ("manage_staff", _("Can manage staff accounts and roles")),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role_names(self) -> list[str]:
        return sorted(group.name for group in self.groups.all())


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


class AccessLog(models.Model):
    """Who logged in, failed to, was locked out, revealed a protected field or exported data.

    Append-only: a database trigger refuses every update and delete.
    """

    class Action(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOCKED_OUT = "locked_out", _("Locked out")
        LOGOUT = "logout", _("Logged out")
        SECOND_FACTOR_FAILED = "otp_failed", _("Wrong second-factor code")
        SECOND_FACTOR_VERIFIED = "otp_verified", _("Second factor verified")
        SECOND_FACTOR_ENROLLED = "otp_enrolled", _("Second factor enrolled")
        REVEAL = "reveal", _("Revealed a protected field")
        EXPORT = "export", _("Exported data")
        DENIED = "denied", _("Refused for lack of permission")

    at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        # Entries outlive staff accounts; an append-only row cannot be nulled on delete.
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        verbose_name=_("staff member"),
    )
    username = models.CharField(max_length=150, blank=True, verbose_name=_("user name"))
    action = models.CharField(
        max_length=20, choices=Action.choices, db_index=True, verbose_name=_("action")
    )
    target_type = models.CharField(max_length=100, blank=True, verbose_name=_("record type"))
    target_id = models.CharField(max_length=64, blank=True, verbose_name=_("record number"))
    target_label = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("A pseudonymous label, never a protected value."),
        verbose_name=_("record"),
    )
    field = models.CharField(max_length=100, blank=True, verbose_name=_("field"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    detail = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        triggers = [
            pgtrigger.Protect(
                name="access_log_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()}"

    @property
    def field_label(self) -> str:
        """The revealed field as staff know it ("Real name"), not its name in the code."""
        if not self.field:
            return ""
        return field_labels(self.target_type).get(self.field, self.field)
