"""The journey of a case: stage changes and emergency flags, with when and by whom."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.choices import JourneyEventKind, JourneyStage
from cases.models.case import Case, UnderCaseKey
from protection.choice_labels import CachedChoiceLabels
from protection.fields import EncryptedField


@track_history()
class JourneyEvent(UnderCaseKey, CachedChoiceLabels, models.Model):
    """A stage change, an emergency flag raised or cleared, or a journey plan destroyed, with
    when and by whom."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="journey_events", verbose_name=_("case")
    )
    kind = models.CharField(_("event"), max_length=14, choices=JourneyEventKind.choices)
    stage = models.CharField(_("stage"), max_length=14, choices=JourneyStage.choices, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    # Blank only for what Haven did on its own schedule (a journey plan destroyed).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("by"),
    )
    # Under the case's key: a reason for a stage change tends to say where the person is.
    reason = EncryptedField(_("reason"), blank=True, null=True, max_plaintext_length=500)

    class Meta:
        verbose_name = _("journey event")
        verbose_name_plural = _("journey events")
        ordering = ["case", "-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.case.code} / {self.get_kind_display()}"
