"""Safe houses, rooms, beds and who slept where. PostgreSQL exclusion constraints make a
double-booked bed, or one person in two beds at once, impossible at any moment whatever the code
does."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Lower
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.models import Case, FamilyMember
from cases.models.case import UnderCaseKey
from protection.choice_labels import CachedChoiceLabels
from protection.fields import EncryptedField, ProtectedModel


def occupant_label(case_code: str, family_member_id: int | None) -> str:
    """Who sleeps in a bed, pseudonymously: the case's code, and a family member's number."""
    return case_code if family_member_id is None else f"{case_code}/F{family_member_id}"


class HouseStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")
    COMPROMISED = "compromised", _("Compromised")


class Country(models.TextChoices):
    THAILAND = "TH", _("Thailand")
    MYANMAR = "MM", _("Myanmar")
    INDIA = "IN", _("India")
    OTHER = "XX", _("Other")


@track_history()
class House(ProtectedModel):
    code_name = models.CharField(_("code name"), max_length=50, unique=True)
    town = models.CharField(_("town"), max_length=100)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    address = EncryptedField(_("address"), max_plaintext_length=500)
    contact_person = EncryptedField(
        _("contact person"), blank=True, null=True, max_plaintext_length=200
    )
    notes = EncryptedField(_("notes"), blank=True, null=True, max_plaintext_length=2000)
    status = models.CharField(
        _("status"), max_length=12, choices=HouseStatus.choices, default=HouseStatus.ACTIVE
    )
    status_changed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("status changed at")
    )
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("status changed by"),
    )
    status_reason = models.CharField(_("reason for the status"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("house")
        verbose_name_plural = _("houses")
        ordering = ["town", "code_name"]
        permissions = [
            ("reveal_address", _("Can reveal a safe house's address and contact")),
            ("view_housing_reports", _("Can see housing statistics")),
        ]
        constraints = [
            # "Lotus" and "lotus" are one house to whoever reads the board or a transfer list.
            models.UniqueConstraint(
                Lower("code_name"),
                name="house_code_name_unique_in_any_case",
                violation_error_message=_("Another house already has that code name."),
            ),
            models.CheckConstraint(
                condition=Q(status=HouseStatus.ACTIVE) | ~Q(status_reason=""),
                name="house_closed_or_compromised_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.code_name


@track_history()
class Room(CachedChoiceLabels, models.Model):
    house = models.ForeignKey(
        House, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("house")
    )
    name = models.CharField(_("room"), max_length=50)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["house", "name"]
        constraints = [
            models.UniqueConstraint(
                F("house"),
                Lower("name"),
                name="room_name_unique_in_house_in_any_case",
                violation_error_message=_("That room name is already used in this house."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.house.code_name} / {self.name}"


@track_history()
class Bed(CachedChoiceLabels, models.Model):
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="beds", verbose_name=_("room")
    )
    label = models.CharField(_("bed"), max_length=20)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("bed")
        verbose_name_plural = _("beds")
        ordering = ["room", "label"]
        constraints = [
            models.UniqueConstraint(
                F("room"),
                Lower("label"),
                name="bed_label_unique_in_room_in_any_case",
                violation_error_message=_("That bed label is already used in this room."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.room} / {self.label}"


# A stay counts while it is not cancelled: an undone allocation stays in the history but holds
# no bed and no person.
IN_FORCE = Q(cancelled_at__isnull=True)


@track_history()
class Allocation(UnderCaseKey, CachedChoiceLabels, models.Model):
    """A person in a bed from the moment of check-in (inclusive) to the moment of check-out
    (exclusive; open until then). Moments, not days: a person placed in the morning can be moved
    or checked out the same afternoon, and the constraints still hold at every instant.

    The occupant is a case's own person, or one of the case's family members. A stay undone
    shortly after it was made is cancelled (with who, when and why), never deleted.
    """

    bed = models.ForeignKey(
        Bed, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("bed")
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("case")
    )
    family_member = models.ForeignKey(
        FamilyMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
        verbose_name=_("family member"),
    )
    stay = DateTimeRangeField(_("stay"))
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("checked in by"),
    )
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked out by"),
    )
    checked_out_at = models.DateTimeField(null=True, blank=True, verbose_name=_("checked out at"))
    # Reasons are under the case's data key: they tend to say what happened to the person.
    move_reason = EncryptedField(
        _("reason for the move"), blank=True, null=True, max_plaintext_length=500
    )
    moved_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moved from"),
    )
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancel_reason = EncryptedField(
        _("reason for the cancellation"), blank=True, null=True, max_plaintext_length=500
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["-stay"]
        constraints = [
            ExclusionConstraint(
                name="bed_never_double_booked",
                expressions=[("bed", RangeOperators.EQUAL), ("stay", RangeOperators.OVERLAPS)],
                condition=IN_FORCE,
            ),
            ExclusionConstraint(
                name="person_in_one_bed_at_a_time",
                expressions=[
                    ("case", RangeOperators.EQUAL),
                    (Coalesce("family_member", Value(0)), RangeOperators.EQUAL),
                    ("stay", RangeOperators.OVERLAPS),
                ],
                condition=IN_FORCE,
            ),
            models.CheckConstraint(
                condition=Q(stay__isempty=False) & Q(stay__lower_inf=False),
                name="allocation_has_a_start_and_is_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_by__isnull=False),
                name="allocation_check_out_has_who",
            ),
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True)
                | (Q(cancelled_by__isnull=False) & Q(cancel_reason__isnull=False)),
                name="allocation_cancellation_has_who_and_why",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occupant_label} in {self.bed}"

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def occupant_label(self) -> str:
        return occupant_label(self.case.code, self.family_member_id)
