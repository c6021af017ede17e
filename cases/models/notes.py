"""Notes on a case, encrypted under the case's data key."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.models.case import Case, CaseChild
from protection.fields import EncryptedField


@track_history()
class CaseNote(CaseChild):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="notes", verbose_name=_("case")
    )
    text = EncryptedField(_("note"), max_plaintext_length=5000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        ordering = ["case", "-created_at"]

    def __str__(self) -> str:
        return f"{self.case.code} / note #{self.pk}"
