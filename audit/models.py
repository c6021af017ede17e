"""The append-only access log: logins, reveals, exports, refusals and emergency actions."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from audit.history import field_labels
from protection.choice_labels import CachedChoiceLabels


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
        # Crypto-erasure of a case's identity (cases/services/erasure.py).
        ERASE = "erase", _("Erased a case's identity")
        # A case looked up by a service or ID number (cases/services/lookups.py).
        LOOKUP = "lookup", _("Looked up a case by a protected value")
        # Need-to-know (cases/services/team.py, cases/services/glass.py, accounts/budgets.py).
        TEAM_CHANGED = "team_changed", _("Changed a case's team")
        BREAK_GLASS = "break_glass", _("Broke the glass to open a case")
        GLASS_REVIEWED = "glass_reviewed", _("Reviewed a break-the-glass")
        BUDGET_RAISED = "budget_raised", _("Raised a reveal budget")
        # Two-person control of staff and roles (accounts/staff_requests.py).
        STAFF_REQUESTED = "staff_requested", _("Asked for a change to staff")
        STAFF_APPROVED = "staff_approved", _("Approved a change to staff")
        STAFF_REFUSED = "staff_refused", _("Refused a change to staff")
        PASSWORD_SET = "password_set", _("Set own password with a one-time link")
        ADMINISTRATOR_ADDED = "admin_added", _("Administrator added on the command line")
        # A code word heard from a person on a journey, checked (journeys/services/code_words.py).
        CODE_WORD_CHECKED = "code_word", _("Checked a journey's code word")

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
        # The table keeps the name it had in accounts (see protection.models.DataKey).
        db_table = "accounts_accesslog"
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        # A person's entries of one kind since a time: the look-up limit and the reveal budget.
        indexes = [
            models.Index(fields=["actor", "action", "at"], name="access_log_actor_action_at")
        ]
        triggers = [
            pgtrigger.Protect(
                name="access_log_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        at = formats.localize(timezone.localtime(self.at))
        return f"{at} {self.username} {self.get_action_display()}"

    @property
    def field_label(self) -> str:
        """The revealed field as staff know it ("Real name"), not its name in the code."""
        if not self.field:
            return ""
        return field_labels(self.target_type).get(self.field, self.field)
