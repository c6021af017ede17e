"""Who may see a case's people: its team (intake officer, verifier, case manager and the staff a
case manager added) and, for a limited time, whoever broke the glass to open it. The rule that
reads these is `cases.access`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.models.case import Case, CaseChild
from protection.fields import EncryptedField


@track_history()
class CaseTeamMember(models.Model):
    """A member of staff a case manager added to a case's team, beside the intake officer, the
    verifier and the case manager the case names itself."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="team_members", verbose_name=_("case")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="case_teams",
        verbose_name=_("staff member"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(auto_now_add=True, verbose_name=_("added at"))

    class Meta:
        verbose_name = _("case team member")
        verbose_name_plural = _("case team members")
        ordering = ["case", "added_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="case_team_member_once"),
            # Nobody puts themselves on a team.
            models.CheckConstraint(
                condition=~Q(added_by=F("user")), name="case_team_member_not_self_added"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.user_id}"


class BreakGlassReason(models.TextChoices):
    DANGER = "danger", _("The person is in danger now")
    TEAM_UNREACHABLE = "unreachable", _("The case's team cannot be reached")
    DUPLICATE = "duplicate", _("Checking a possible duplicate")
    MOVE = "move", _("An urgent move or allocation")
    OTHER = "other", _("Another reason (written below)")


class BreakGlassOutcome(models.TextChoices):
    JUSTIFIED = "justified", _("Justified")
    NOT_JUSTIFIED = "not_justified", _("Not justified")


@track_history()
class BreakGlass(CaseChild):
    """Someone outside a case's team opened it for a limited time, with a reason; another person
    (the case manager or an administrator) reviews and closes each use."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="glass_breaks", verbose_name=_("case")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    reason = models.CharField(
        max_length=12, choices=BreakGlassReason.choices, verbose_name=_("reason")
    )
    # Encrypted under the case's key: what was written about the need may name the person.
    why = EncryptedField(_("why"), max_plaintext_length=1000)
    opened_at = models.DateTimeField(default=timezone.now, verbose_name=_("opened at"))
    expires_at = models.DateTimeField(verbose_name=_("open until"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reviewed at"))
    outcome = models.CharField(
        max_length=14, choices=BreakGlassOutcome.choices, blank=True, verbose_name=_("outcome")
    )
    # Encrypted like the why: a note on an unjustified use is likely to quote it.
    review_note = EncryptedField(_("review note"), blank=True, null=True, max_plaintext_length=500)

    class Meta:
        verbose_name = _("break-the-glass")
        verbose_name_plural = _("break-the-glass uses")
        ordering = ["-opened_at", "-pk"]
        permissions = [("review_break_glass", _("Can review break-the-glass uses"))]
        indexes = [
            models.Index(fields=["user", "case", "expires_at"]),
            models.Index(
                fields=["opened_at"], condition=Q(reviewed_at__isnull=True), name="glass_unreviewed"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("opened_at")), name="break_glass_window"
            ),
            # Another person reviews: never the one who opened the case.
            models.CheckConstraint(
                condition=Q(reviewed_by__isnull=True) | ~Q(reviewed_by=F("user")),
                name="break_glass_reviewed_by_another",
            ),
            models.CheckConstraint(
                condition=(
                    Q(reviewed_by__isnull=True, reviewed_at__isnull=True, outcome="")
                    | (Q(reviewed_by__isnull=False, reviewed_at__isnull=False) & ~Q(outcome=""))
                ),
                name="break_glass_review_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code} / {formats.localize(timezone.localtime(self.opened_at))}"

    @property
    def is_open(self) -> bool:
        return self.expires_at > timezone.now()
