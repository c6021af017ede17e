"""Staff users and the emergency locks that switch their accounts off."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import track_history


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


@track_history()
class RevealAllowance(models.Model):
    """A second person's raise of one staff member's reveal budget for one day (see
    accounts/budgets.py). Nobody raises their own."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff member"),
    )
    day = models.DateField(verbose_name=_("day"))
    extra = models.PositiveSmallIntegerField(
        verbose_name=_("extra reveals"),
        help_text=_("How many more records this person may open today."),
    )
    reason = models.CharField(
        max_length=500,
        help_text=_("Why, in a few words. Never the name of a person Haven helps."),
        verbose_name=_("reason"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("raised by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("raised at"))

    class Meta:
        verbose_name = _("reveal budget raise")
        verbose_name_plural = _("reveal budget raises")
        ordering = ["-created_at", "-pk"]
        permissions = [("raise_reveal_budget", _("Can raise another person's reveal budget"))]
        indexes = [models.Index(fields=["user", "day"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(granted_by=models.F("user")),
                name="reveal_allowance_not_own",
            ),
            models.CheckConstraint(
                condition=models.Q(extra__gte=1) & models.Q(extra__lte=500),
                name="reveal_allowance_extra_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} +{self.extra}"
