"""Referrals of a case to partner organisations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.choices import PartnerType, ReferralStatus
from cases.models.case import Case
from protection.choice_labels import CachedChoiceLabels


@track_history()
class Referral(CachedChoiceLabels, models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="referrals", verbose_name=_("case")
    )
    partner_type = models.CharField(_("partner type"), max_length=12, choices=PartnerType.choices)
    partner_name = models.CharField(_("partner organisation"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PROPOSED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["case", "-created_at"]

    def __str__(self) -> str:
        return f"{self.case.code} → {self.partner_name}"
