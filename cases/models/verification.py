"""The verification checklist of a case: one check per item, with who checked it and when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.choices import CheckItem, CheckResult
from cases.models.case import Case, CaseChild
from protection.fields import EncryptedField


@track_history()
class VerificationCheck(CaseChild):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="checks", verbose_name=_("case")
    )
    item = models.CharField(_("check"), max_length=24, choices=CheckItem.choices)
    result = models.CharField(
        _("result"), max_length=8, choices=CheckResult.choices, default=CheckResult.PENDING
    )
    notes = EncryptedField(_("notes"), blank=True, null=True, max_plaintext_length=2000)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    checked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("checked at"))

    class Meta:
        verbose_name = _("verification check")
        verbose_name_plural = _("verification checks")
        ordering = ["case", "item"]
        constraints = [
            models.UniqueConstraint(fields=["case", "item"], name="one_check_per_item_per_case"),
            models.CheckConstraint(
                condition=Q(result=CheckResult.PENDING)
                | (Q(checked_by__isnull=False) & Q(checked_at__isnull=False)),
                name="check_result_has_who_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code} / {self.get_item_display()}"
