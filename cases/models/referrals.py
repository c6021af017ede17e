"""Referrals of a case to partner organisations, and the directory of those partners."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.choices import PartnerType, ReferralStatus
from cases.models.case import Case, UnderCaseKey
from protection.choice_labels import CachedChoiceLabels
from protection.fields import EncryptedField


@track_history()
class Partner(CachedChoiceLabels, models.Model):
    """An organisation cases are referred to (and, later, that consents name). A record of its
    own, so that a referral points at it and says nothing about the person in clear."""

    name = models.CharField(_("name"), max_length=200)
    partner_type = models.CharField(_("partner type"), max_length=12, choices=PartnerType.choices)
    contact = models.CharField(
        _("contact"),
        max_length=500,
        blank=True,
        help_text=_("The organisation's office contact, never a person's private one."),
    )
    active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="partner_name_unique"),
            models.CheckConstraint(condition=~models.Q(name=""), name="partner_has_a_name"),
        ]

    def __str__(self) -> str:
        return self.name


@track_history()
class Referral(UnderCaseKey, CachedChoiceLabels, models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="referrals", verbose_name=_("case")
    )
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("partner organisation"),
    )
    # Under the case's key: why someone is referred says what they need and who they are.
    purpose = EncryptedField(_("purpose"), max_plaintext_length=500)
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
        return f"{self.case.code} → {self.partner}"
