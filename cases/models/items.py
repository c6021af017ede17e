"""What a person brought with them: weapons, ammunition, vehicles, other equipment."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.choices import ItemCategory, ItemType
from cases.models.case import Case, UnderCaseKey
from protection.choice_labels import CachedChoiceLabels
from protection.fields import EncryptedField


@track_history()
class ItemBrought(UnderCaseKey, CachedChoiceLabels, models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="items", verbose_name=_("case")
    )
    category = models.CharField(
        _("category"), max_length=12, choices=ItemCategory.choices, editable=False
    )
    item_type = models.CharField(_("item"), max_length=20, choices=ItemType.choices)
    count = models.PositiveIntegerField(_("count"))
    # Who received a weapon and notes on it can name the person: under the case's key.
    handed_over_to = EncryptedField(
        _("handed over to"), blank=True, null=True, max_plaintext_length=200
    )
    notes = EncryptedField(_("notes"), blank=True, null=True, max_plaintext_length=500)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("item brought")
        verbose_name_plural = _("items brought")
        ordering = ["case", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(count__gte=1) & Q(count__lte=1_000_000), name="item_count_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code} / {self.count} × {self.get_item_type_display()}"
