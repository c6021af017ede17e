"""Staff users and the emergency locks that switch their accounts off."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import formats, timezone
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
        constraints = [
            # "alice" and "Alice" are one person to whoever reads a log or an alert.
            models.UniqueConstraint(
                Lower("username"),
                name="username_unique_in_any_case",
                violation_error_message=_("An account with this user name already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


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


# --- two-person control of staff and roles (accounts/staff_requests.py) --------------------


@track_history()
class StaffRequest(models.Model):
    """A change to a staff account that one administrator asks for and another approves with a
    fresh second-factor code: nobody both asks and approves, and a request not approved in time
    expires."""

    class Kind(models.TextChoices):
        CREATE_ACCOUNT = "create_account", _("Create an account")
        GRANT_ROLE = "grant_role", _("Grant a role")
        REMOVE_ROLE = "remove_role", _("Remove a role")
        DEACTIVATE = "deactivate", _("Switch an account off")
        REACTIVATE = "reactivate", _("Re-activate an account")
        RESET_PASSWORD = "reset_password", _("Reset the password")
        RESET_SECOND_FACTOR = "reset_second_factor", _("Reset the second factor")
        LIFT_LOCK = "lift_lock", _("Lift a lost-device lock")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for approval")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    kind = models.CharField(max_length=30, choices=Kind.choices, verbose_name=_("kind"))
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    # The account it is about; for a new account, set when the request is approved.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff_requests",
        verbose_name=_("staff member"),
    )
    role = models.ForeignKey(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("role"),
    )
    lock = models.ForeignKey(
        EmergencyLock,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lock"),
    )
    # A new account's details.
    username = models.CharField(max_length=150, blank=True, verbose_name=_("user name"))
    first_name = models.CharField(max_length=150, blank=True, verbose_name=_("first name"))
    last_name = models.CharField(max_length=150, blank=True, verbose_name=_("last name"))
    email = models.EmailField(blank=True, verbose_name=_("e-mail address"))
    reason = models.CharField(
        max_length=500,
        help_text=_("Why, in a few words. Never the name of a person Haven helps."),
        verbose_name=_("reason"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(auto_now_add=True, verbose_name=_("requested at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    refusal_reason = models.CharField(
        max_length=500, blank=True, verbose_name=_("reason for refusing")
    )

    class Meta:
        verbose_name = _("staff request")
        verbose_name_plural = _("staff requests")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # Nobody approves or refuses their own request, or one about themselves.
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("requested_by")),
                name="staff_request_not_own",
            ),
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("user")),
                name="staff_request_not_about_decider",
            ),
            models.CheckConstraint(
                condition=~models.Q(requested_by=models.F("user")),
                name="staff_request_not_about_requester",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_by__isnull=True, decided_at=None)
                | (
                    ~models.Q(status="pending")
                    & models.Q(decided_by__isnull=False, decided_at__isnull=False)
                ),
                name="staff_request_decided_when_not_pending",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("requested_at")),
                name="staff_request_expires_after_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def subject_name(self) -> str:
        return self.user.get_username() if self.user_id else self.username


@track_history()
class RoleGrant(models.Model):
    """When a staff member was given a role: the approval of its request (or, for a role given
    some other way, the moment it was added). A role counts for four-eyes steps only once it is
    older than the cooling period (accounts/cooling.py). In the history, however it was given
    or taken away."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="role_grants",
        verbose_name=_("staff member"),
    )
    role = models.ForeignKey(
        "auth.Group", on_delete=models.CASCADE, related_name="+", verbose_name=_("role")
    )
    granted_at = models.DateTimeField(verbose_name=_("granted at"))
    request = models.ForeignKey(
        StaffRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("request"),
    )

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="role_grant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.role_id}"


class SetupLink(models.Model):
    """A one-time link with which a staff member sets their own password: only its hash is
    kept, it is valid a short time (HAVEN_SETUP_LINK_MINUTES) and it works once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff member"),
    )
    token_hash = models.CharField(max_length=64, unique=True, verbose_name=_("token hash"))
    request = models.ForeignKey(
        StaffRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("request"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used at"))

    class Meta:
        verbose_name = _("password link")
        verbose_name_plural = _("password links")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_id} {formats.localize(timezone.localtime(self.created_at))}"
