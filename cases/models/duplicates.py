"""Pairs of cases a case manager has confirmed are different people."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.models.case import Case


@track_history()
class DuplicateDismissal(models.Model):
    """Two cases a case manager has confirmed are different people."""

    first_case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("first case")
    )
    second_case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("second case")
    )
    reason = models.CharField(_("reason"), max_length=500)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("dismissed by"),
    )
    dismissed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("dismissed at"))

    class Meta:
        verbose_name = _("not-a-duplicate decision")
        verbose_name_plural = _("not-a-duplicate decisions")
        constraints = [
            models.UniqueConstraint(
                fields=["first_case", "second_case"], name="one_dismissal_per_pair"
            ),
            models.CheckConstraint(
                condition=Q(first_case__lt=models.F("second_case")), name="dismissal_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_case.code} ≠ {self.second_case.code}"
