"""The reward policy: what an item brought is worth."""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.choices import ItemType
from payments.models.disbursement import MONEY
from payments.money import Currency
from protection.choice_labels import CachedChoiceLabels


@track_history()
class RewardPolicy(CachedChoiceLabels, models.Model):
    """What an item brought is worth, for a period of validity."""

    item_type = models.CharField(_("item"), max_length=20, choices=ItemType.choices)
    amount = models.DecimalField(_("amount per item"), **MONEY)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.MMK
    )
    validity = DateRangeField(_("valid"))

    class Meta:
        verbose_name = _("reward policy")
        verbose_name_plural = _("reward policies")
        ordering = ["item_type", "-validity"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="reward_amount_positive"),
            ExclusionConstraint(
                name="one_reward_per_item_at_a_time",
                expressions=[
                    ("item_type", RangeOperators.EQUAL),
                    ("validity", RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_item_type_display()}: {self.amount} {self.currency}"
