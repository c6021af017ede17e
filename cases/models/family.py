"""The family members of a case (names and whereabouts under the case's data key)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.choices import Relation
from cases.models.case import Case, CaseChild
from protection.fields import EncryptedField


@track_history()
class FamilyMember(CaseChild):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="family_members", verbose_name=_("case")
    )
    name = EncryptedField(_("name"), max_plaintext_length=200)
    relation = models.CharField(_("relation"), max_length=10, choices=Relation.choices)
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    whereabouts = EncryptedField(_("whereabouts"), blank=True, null=True, max_plaintext_length=500)
    needs_housing = models.BooleanField(_("needs housing"), default=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        ordering = ["case", "pk"]
        # The family members the waiting list looks for, without reading the others' rows.
        indexes = [
            models.Index(
                fields=["case", "id"],
                condition=Q(needs_housing=True),
                name="family_member_needing_a_bed",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__lte=120), name="family_age_plausible"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code} / {self.get_relation_display()}"
