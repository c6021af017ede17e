"""Evidence files of a case, stored encrypted under the case's data key."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.choices import EvidenceKind
from cases.models.case import Case, CaseChild
from protection.fields import EncryptedField


@track_history()
class Evidence(CaseChild):
    """A file stored encrypted under the case's data key, outside any public URL."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EvidenceKind.choices)
    original_name = EncryptedField(_("file name"), max_plaintext_length=255)
    content_type = models.CharField(max_length=50, editable=False, verbose_name=_("file type"))
    size = models.PositiveIntegerField(editable=False, verbose_name=_("size"))
    storage_name = models.CharField(
        max_length=100, unique=True, editable=False, verbose_name=_("stored file")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("uploaded at"))

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["case", "-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.case.code} / {self.get_kind_display()} #{self.pk}"
