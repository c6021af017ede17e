"""Pairs of cases a case manager has confirmed are different people."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.models.case import Case
from protection.fields import EncryptedField, ProtectedModel
from protection.keys import create_data_key


@track_history()
class DuplicateDismissal(ProtectedModel):
    """Two cases a case manager has confirmed are different people.

    The reason is about both people, so neither case's key fits it: it is encrypted under a
    data key of its own, destroyed when either case is erased (cases/services/erasure.py)."""

    first_case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("first case")
    )
    second_case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("second case")
    )
    reason = EncryptedField(_("reason"), max_plaintext_length=500)
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

    def new_data_key(self):
        return create_data_key(purpose="cases.duplicatedismissal")

    def __str__(self) -> str:
        return f"{self.first_case.code} ≠ {self.second_case.code}"
