"""The case: identity encrypted under a data key of the case's own, so that one case can be
crypto-erased; everything else in clear for statistics. Also the case code counter and the
base of the records whose protected fields share the case's data key."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.choices import (
    RANK_GROUPS,
    Channel,
    Force,
    JourneyStage,
    Rank,
    RankGroup,
    Region,
    RiskLevel,
    Status,
    UnitType,
    Urgency,
)
from protection.blind_indexes import BlindIndexField
from protection.fields import EncryptedDateField, EncryptedField, ProtectedModel
from protection.keys import Ciphertext, Erased, create_data_key


def month_of(day: datetime.date | None) -> datetime.date | None:
    """The first day of the month of a date: what statistics keep of an exact date."""
    return None if day is None else day.replace(day=1)


# Each encrypted date of a case and the clear month kept of it.
MONTH_OF_DATE = (("contact_date", "contact_month"), ("defection_date", "defection_month"))


def rank_group_of(rank: str | None) -> str:
    """The rank group of a rank: what statistics keep of the exact rank."""
    return next(
        (str(group) for group, ranks in RANK_GROUPS.items() if rank in ranks),
        str(RankGroup.UNKNOWN),
    )


class CaseCodeCounter(models.Model):
    """The last case number used in a year. Incremented under a row lock inside the intake
    transaction, so codes are consecutive, never skipped and never reused."""

    year = models.PositiveSmallIntegerField(primary_key=True, verbose_name=_("year"))
    last_number = models.PositiveIntegerField(default=0, verbose_name=_("last number"))

    class Meta:
        verbose_name = _("case code counter")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


# Blind indexes stay out of the append-only history: erasure blanks them on the case row, and a
# copy in the history would still confirm a guessed service number.
@track_history(exclude=["service_number_index", "national_id_index", "name_and_birth_index"])
class Case(ProtectedModel):
    # Details that narrow a person down beside a case's coarse facts: those who may not see
    # identities see them coarsened (a month for a date, nothing for the rest) on every page,
    # in the case's history and in the audit trail (audit/history.py reads this).
    # Need-to-know: only the case's team (and a break-the-glass) reveals (cases/rules.py).
    REVEAL_RULE = "cases.see_identity"
    REVEAL_REFUSAL = _(
        "Only the case's team sees who this is. Ask its case manager to add you, or break the "
        "glass if it cannot wait."
    )

    COARSE_FIELDS = {
        "township": "hidden",
        "rank": "hidden",
        "unit_type": "hidden",
        "contact_date": "month",
        "defection_date": "month",
    }

    code = models.CharField(_("case code"), max_length=16, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.INTAKE
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    # Contact and statistics: in clear.
    # The exact dates and the township narrow a person down: encrypted under the case's key,
    # with the month (derived on save) and the region in clear for statistics.
    contact_date = EncryptedDateField(_("date of first contact"))
    contact_month = models.DateField(_("month of first contact"), editable=False)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    region = models.CharField(_("state or region"), max_length=16, choices=Region.choices)
    township = EncryptedField(_("township"), blank=True, null=True, max_plaintext_length=100)
    force = models.CharField(_("force"), max_length=8, choices=Force.choices)
    # The exact rank narrows a person down (there are few captains in a battalion): encrypted
    # under the case's key, with its group (derived on save) in clear for statistics.
    rank = EncryptedField(
        _("rank"), choices=Rank.choices, default=Rank.UNKNOWN, max_plaintext_length=20
    )
    rank_group = models.CharField(
        _("rank group"),
        max_length=20,
        choices=RankGroup.choices,
        default=RankGroup.UNKNOWN,
        editable=False,
    )
    unit_type = models.CharField(
        _("unit type"), max_length=20, choices=UnitType.choices, blank=True
    )
    defection_date = EncryptedDateField(_("date of defection"), null=True, blank=True)
    defection_month = models.DateField(
        _("month of defection"), null=True, blank=True, editable=False
    )
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    risk_level = models.CharField(
        _("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.MEDIUM
    )
    journey_stage = models.CharField(
        _("journey stage"),
        max_length=14,
        choices=JourneyStage.choices,
        default=JourneyStage.CONTACTED,
    )
    emergency = models.BooleanField(_("emergency"), default=False)
    emergency_since = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("emergency since")
    )

    # Identity: encrypted under the case's data key; exact look-ups through blind indexes.
    real_name = EncryptedField(_("real name"), max_plaintext_length=200)
    alias = EncryptedField(_("alias"), blank=True, null=True, max_plaintext_length=200)
    service_number = EncryptedField(
        _("service number"), blank=True, null=True, max_plaintext_length=50
    )
    service_number_index = BlindIndexField(
        source="service_number", verbose_name=_("service number index")
    )
    national_id = EncryptedField(
        _("national ID number"), blank=True, null=True, max_plaintext_length=50
    )
    national_id_index = BlindIndexField(
        source="national_id", verbose_name=_("national ID number index")
    )
    phone = EncryptedField(_("phone"), blank=True, null=True, max_plaintext_length=50)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    # Set when Myanmar digits came to be read as Western ones (migration 0010) and this case's
    # service or ID number turned out equal to another case's: both stay findable and are
    # listed for duplicate review, and this one is exempt from the one-case-per-number rule.
    # A database default too, so that rows written by SQL (benchmark fills, data migrations)
    # need not name it.
    identifier_clash = models.BooleanField(
        _("number shared with another case"), default=False, db_default=False, editable=False
    )
    name_and_birth_index = BlindIndexField(
        source=("real_name", "date_of_birth"),
        normalise="name",
        verbose_name=_("name and date of birth index"),
    )
    unit = EncryptedField(_("unit"), blank=True, null=True, max_plaintext_length=200)
    family_whereabouts = EncryptedField(_("notes on family whereabouts"), blank=True, null=True)
    safety_plan = EncryptedField(_("safety plan"), blank=True, null=True)
    intake_notes = EncryptedField(_("intake notes"), blank=True, null=True)

    # Who did what: the four-eyes rule reads these.
    intake_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("intake officer"),
    )
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verifier"),
    )
    case_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case manager"),
    )
    proposed_decision = models.CharField(
        max_length=12, choices=Status.choices, blank=True, verbose_name=_("proposed decision")
    )
    # What staff write about the person is encrypted under the case's key like the identity.
    proposal_reason = EncryptedField(
        blank=True, null=True, max_plaintext_length=2000, verbose_name=_("reason for the proposal")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decision_reason = EncryptedField(
        blank=True, null=True, max_plaintext_length=2000, verbose_name=_("reason for the decision")
    )
    status_reason = EncryptedField(
        _("reason for the last status change"), blank=True, null=True, max_plaintext_length=2000
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-contact_month", "-code"]
        permissions = [
            ("verify_case", _("Can work verification checklists and propose a decision")),
            ("decide_case", _("Can verify or reject a case, and re-open it")),
            ("manage_safety", _("Can manage journey, safety plans, emergencies and referrals")),
            ("review_duplicates", _("Can review possible duplicates")),
            ("view_case_reports", _("Can see case statistics")),
            ("export_case_reports", _("Can export case statistics")),
        ]
        indexes = [
            models.Index(fields=["status", "contact_month"]),
            models.Index(fields=["contact_month"]),
            # Lists and counts of verified cases at scale (the waiting list, verified defections
            # per month) read this index alone, not the wide rows with their ciphertexts.
            models.Index(
                fields=["id"],
                include=[
                    "code",
                    "journey_stage",
                    "emergency",
                    "risk_level",
                    "urgency",
                    "decided_at",
                    "contact_month",
                    "defection_month",
                ],
                condition=Q(status=Status.VERIFIED),
                name="case_verified_covering",
            ),
            # This month's decisions (the dashboard).
            models.Index(
                fields=["decided_at"],
                condition=Q(status=Status.VERIFIED),
                name="case_verified_decided_at",
            ),
            # The reports' counts by month, force, rank group, region read this index alone.
            models.Index(
                fields=["contact_month"],
                include=["id", "status", "force", "rank_group", "region", "defection_month"],
                name="case_report_facts",
            ),
            # The list's filter by rank group.
            models.Index(fields=["rank_group", "contact_month"], name="case_rank_group"),
            # The emergencies (dashboard alerts), longest-standing first.
            models.Index(
                fields=["emergency_since", "code"],
                condition=Q(emergency=True),
                name="case_emergencies",
            ),
            # "Awaiting your action" on the dashboard: cases in intake still waiting for their
            # team, and proposals waiting for a decision. Without these it read every case in
            # verification, nearly all of them without a proposal yet.
            models.Index(
                fields=["id"],
                condition=Q(status=Status.INTAKE)
                & (Q(verifier__isnull=True) | Q(case_manager__isnull=True)),
                name="case_awaiting_team",
            ),
            models.Index(
                fields=["id"],
                condition=Q(status=Status.VERIFYING) & ~Q(proposed_decision=""),
                name="case_awaiting_decision",
            ),
            # Possible duplicates by name and date of birth, at intake and on the review list
            # (the service and ID numbers have their unique indexes).
            models.Index(
                fields=["name_and_birth_index"],
                condition=~Q(name_and_birth_index=""),
                name="case_name_and_birth_lookup",
            ),
            # The duplicates review groups cases by service and ID number; without these it
            # read every case, most of which have neither (the unique indexes above leave out
            # the cases whose clash was acknowledged, so the review cannot use them).
            models.Index(
                fields=["service_number_index"],
                condition=~Q(service_number_index=""),
                name="case_service_number_lookup",
            ),
            models.Index(
                fields=["national_id_index"],
                condition=~Q(national_id_index=""),
                name="case_national_id_lookup",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^HV-[0-9]{4}-[0-9]{5}$"), name="case_code_format"
            ),
            # One case per service or ID number: a second intake must use the existing case.
            models.UniqueConstraint(
                fields=["service_number_index"],
                condition=~Q(service_number_index="") & Q(identifier_clash=False),
                name="one_case_per_service_number",
            ),
            models.UniqueConstraint(
                fields=["national_id_index"],
                condition=~Q(national_id_index="") & Q(identifier_clash=False),
                name="one_case_per_national_id",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="case_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=[Status.VERIFIED, Status.REJECTED])
                | (
                    Q(decided_by__isnull=False)
                    & Q(decided_at__isnull=False)
                    & Q(decision_reason__isnull=False)
                ),
                name="case_decision_has_who_when_why",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True)
                | (
                    ~Q(decided_by=models.F("intake_officer"))
                    & (Q(verifier__isnull=True) | ~Q(decided_by=models.F("verifier")))
                ),
                name="case_decision_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(rank_group__in=RankGroup.values), name="case_rank_group_valid"
            ),
            models.CheckConstraint(
                condition=Q(emergency=False) | Q(emergency_since__isnull=False),
                name="case_emergency_has_time",
            ),
            models.CheckConstraint(
                condition=Q(contact_month__day=1)
                & (Q(defection_month__isnull=True) | Q(defection_month__day=1)),
                name="case_months_are_first_days",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def new_data_key(self):
        # Each case has its own data key, so its identity can be erased on its own.
        return create_data_key(purpose="cases.case")

    def save(self, *args: Any, **kwargs: Any) -> None:
        derived = self._derive_months() + self._derive_rank_group()
        if kwargs.get("update_fields") is not None:
            fields = set(kwargs["update_fields"])
            kwargs["update_fields"] = fields | {
                clear for exact, clear in derived if exact in fields
            }
        super().save(*args, **kwargs)

    def _changed_plaintext(self, field: str) -> tuple[bool, Any]:
        """Whether an encrypted field holds a value set since it was read, and that value.
        A field deferred (not loaded), still encrypted (never read) or erased has not changed:
        its clear companion must keep the value it has, not be derived from nothing."""
        if field not in self.__dict__:
            return False, None
        value = self.__dict__[field]
        if isinstance(value, Ciphertext | Erased):
            return False, None
        return True, value

    def _derive_months(self) -> list[tuple[str, str]]:
        """The clear months of the encrypted dates, for statistics; derived here, so they never
        disagree with the dates."""
        derived = []
        for date_field, month_field in MONTH_OF_DATE:
            changed, value = self._changed_plaintext(date_field)
            if not changed:
                continue
            if isinstance(value, str):
                value = datetime.date.fromisoformat(value)
            setattr(self, month_field, month_of(value))
            derived.append((date_field, month_field))
        return derived

    def _derive_rank_group(self) -> list[tuple[str, str]]:
        """The clear rank group of the encrypted rank, for statistics, derived the same way."""
        changed, rank = self._changed_plaintext("rank")
        if not changed:
            return []
        self.rank_group = rank_group_of(rank)
        return [("rank", "rank_group")]

    @property
    def is_open(self) -> bool:
        return self.status in (Status.INTAKE, Status.VERIFYING, Status.VERIFIED)

    @property
    def is_erased(self) -> bool:
        """Whether the case's identity has been crypto-erased (its data key destroyed)."""
        return self.data_key.destroyed_at is not None


class CaseChild(ProtectedModel):
    """A record belonging to a case whose protected fields share the case's data key."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")

    REVEAL_RULE = Case.REVEAL_RULE
    REVEAL_REFUSAL = Case.REVEAL_REFUSAL

    class Meta:
        abstract = True

    def new_data_key(self):
        return self.case.data_key


class UnderCaseKey:
    """A record pointing at a case (its `case` field) whose encrypted fields use the case's data
    key, without a key column of its own: each ciphertext names its key (hv1:<key id>:…), so
    erasing the case makes them unreadable with the rest of it."""

    REVEAL_RULE = Case.REVEAL_RULE
    REVEAL_REFUSAL = Case.REVEAL_REFUSAL

    @property
    def data_key_id(self) -> int | None:
        if self.case_id is None:
            return None
        cached = self.__dict__.get("_haven_case_key")
        if cached is None:
            case = self._state.fields_cache.get("case")
            cached = (
                case.data_key_id
                if case is not None
                else Case.objects.values_list("data_key_id", flat=True).get(pk=self.case_id)
            )
            self.__dict__["_haven_case_key"] = cached
        return cached
