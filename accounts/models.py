"""Staff users, wrapped data keys for envelope encryption, and the append-only access log."""

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.choice_labels import CachedChoiceLabels
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


class AccessLog(CachedChoiceLabels, models.Model):
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
        # Emergency controls (accounts/emergency.py).
        EMERGENCY_LOCK = "emergency_lock", _("Emergency: locked other accounts")
        EMERGENCY_UNLOCK = "emergency_unlock", _("Emergency: lifted a lock")
        SESSIONS_ENDED = "sessions_ended", _("Emergency: ended sessions")
        SECOND_FACTOR_REVOKED = "otp_revoked", _("Emergency: revoked a second factor")
        # Crypto-erasure of a case's identity (cases/erasure.py).
        ERASE = "erase", _("Erased a case's identity")

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


@track_history()
class EmergencyLock(models.Model):
    """Accounts switched off in an emergency, remembered so that lifting the lock restores
    exactly the accounts it switched off (see accounts/emergency.py)."""

    class Kind(models.TextChoices):
        ALL_ACCOUNTS = "all_accounts", _("All other accounts locked")
        LOST_DEVICE = "lost_device", _("Second-factor device lost")

    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    reason = models.CharField(
        max_length=500,
        help_text=_("Why, in a few words. Never the name of a person Haven helps."),
        verbose_name=_("reason"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("locked at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("locked by"),
    )
    # Set when the lock was made on the server's command line rather than in the browser.
    command_line_user = models.CharField(
        max_length=150, blank=True, verbose_name=_("command-line user")
    )
    lifted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("lifted at"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="EmergencyLockedUser",
        related_name="emergency_locks",
        verbose_name=_("locked accounts"),
    )

    class Meta:
        verbose_name = _("emergency lock")
        verbose_name_plural = _("emergency locks")
        ordering = ["-created_at", "-pk"]
        permissions = [("use_emergency_controls", _("Can use the emergency controls"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lifted_by__isnull=True) | models.Q(lifted_at__isnull=False),
                name="emergency_lock_lifted_by_needs_lifted_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_in_force(self) -> bool:
        return self.lifted_at is None


class EmergencyLockedUser(models.Model):
    """One account a lock switched off (it was active, or held by another lock, at the time)."""

    lock = models.ForeignKey(
        EmergencyLock, on_delete=models.CASCADE, related_name="entries", verbose_name=_("lock")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff member"),
    )
    kept_locked = models.BooleanField(
        default=False,
        help_text=_("Left switched off when the lock was lifted."),
        verbose_name=_("kept locked"),
    )

    class Meta:
        verbose_name = _("locked account")
        verbose_name_plural = _("locked accounts")
        constraints = [
            models.UniqueConstraint(fields=["lock", "user"], name="emergency_lock_user_once"),
        ]

    def __str__(self) -> str:
        return f"{self.lock_id}:{self.user_id}"
