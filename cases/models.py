"""Case records. Identity is encrypted under a data key of the case's own, so that one case can
be crypto-erased; everything else is in clear for statistics."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.choices import (
    RANK_GROUPS,
    Channel,
    CheckItem,
    CheckResult,
    EvidenceKind,
    Force,
    ItemCategory,
    ItemType,
    JourneyEventKind,
    JourneyStage,
    PartnerType,
    Rank,
    RankGroup,
    ReferralStatus,
    Region,
    Relation,
    RiskLevel,
    Status,
    UnitType,
    Urgency,
)
from protection.blind_indexes import BlindIndexField
from protection.choice_labels import CachedChoiceLabels
from protection.fields import EncryptedDateField, EncryptedField, ProtectedModel
from protection.keys import create_data_key


def rank_group_expression() -> models.Case:
    """The rank group of a case, computed in SQL for filters and statistics."""
    return models.Case(
        *(
            models.When(rank__in=[str(rank) for rank in ranks], then=models.Value(str(group)))
            for group, ranks in RANK_GROUPS.items()
        ),
        default=models.Value(str(RankGroup.UNKNOWN)),
        output_field=models.CharField(max_length=20),
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
    code = models.CharField(_("case code"), max_length=16, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.INTAKE
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    # Contact and statistics: in clear.
    contact_date = models.DateField(_("date of first contact"))
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    region = models.CharField(_("state or region"), max_length=16, choices=Region.choices)
    township = models.CharField(_("township"), max_length=100, blank=True)
    force = models.CharField(_("force"), max_length=8, choices=Force.choices)
    rank = models.CharField(_("rank"), max_length=20, choices=Rank.choices, default=Rank.UNKNOWN)
    unit_type = models.CharField(
        _("unit type"), max_length=20, choices=UnitType.choices, blank=True
    )
    defection_date = models.DateField(_("date of defection"), null=True, blank=True)
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
    proposal_reason = models.TextField(blank=True, verbose_name=_("reason for the proposal"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decision_reason = models.TextField(blank=True, verbose_name=_("reason for the decision"))
    status_reason = models.TextField(_("reason for the last status change"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-contact_date", "-code"]
        permissions = [
            ("verify_case", _("Can work verification checklists and propose a decision")),
            ("decide_case", _("Can verify or reject a case, and re-open it")),
            ("manage_safety", _("Can manage journey, safety plans, emergencies and referrals")),
            ("review_duplicates", _("Can review possible duplicates")),
            ("view_case_reports", _("Can see case statistics")),
            ("export_case_reports", _("Can export case statistics")),
        ]
        indexes = [
            models.Index(fields=["status", "contact_date"]),
            models.Index(fields=["contact_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^HV-[0-9]{4}-[0-9]{5}$"), name="case_code_format"
            ),
            # One case per service or ID number: a second intake must use the existing case.
            models.UniqueConstraint(
                fields=["service_number_index"],
                condition=~Q(service_number_index=""),
                name="one_case_per_service_number",
            ),
            models.UniqueConstraint(
                fields=["national_id_index"],
                condition=~Q(national_id_index=""),
                name="one_case_per_national_id",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="case_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=[Status.VERIFIED, Status.REJECTED])
                | (
                    Q(decided_by__isnull=False)
                    & Q(decided_at__isnull=False)
                    & ~Q(decision_reason="")
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
                condition=Q(emergency=False) | Q(emergency_since__isnull=False),
                name="case_emergency_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def new_data_key(self):
        # Each case has its own data key, so its identity can be erased on its own.
        return create_data_key(purpose="cases.case")

    @property
    def rank_group(self) -> str:
        return next(
            (group for group, ranks in RANK_GROUPS.items() if self.rank in ranks), RankGroup.UNKNOWN
        )

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

    class Meta:
        abstract = True

    def new_data_key(self):
        return self.case.data_key


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
        constraints = [
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__lte=120), name="family_age_plausible"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code} / {self.get_relation_display()}"


@track_history()
class ItemBrought(CachedChoiceLabels, models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="items", verbose_name=_("case")
    )
    category = models.CharField(
        _("category"), max_length=12, choices=ItemCategory.choices, editable=False
    )
    item_type = models.CharField(_("item"), max_length=20, choices=ItemType.choices)
    count = models.PositiveIntegerField(_("count"))
    handed_over_to = models.CharField(_("handed over to"), max_length=200, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
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


@track_history()
class JourneyEvent(CachedChoiceLabels, models.Model):
    """A stage change or an emergency flag raised or cleared, with when and by whom."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="journey_events", verbose_name=_("case")
    )
    kind = models.CharField(_("event"), max_length=14, choices=JourneyEventKind.choices)
    stage = models.CharField(_("stage"), max_length=14, choices=JourneyStage.choices, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("journey event")
        verbose_name_plural = _("journey events")
        ordering = ["case", "-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.case.code} / {self.get_kind_display()}"


@track_history()
class DuplicateDismissal(models.Model):
    """Two cases a case manager has confirmed are different people."""

    first_case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("first case")
    )
    second_case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("second case")
    )
    reason = models.CharField(_("reason"), max_length=500)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("dismissed by"),
    )
    dismissed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("dismissed at"))

    class Meta:
        verbose_name = _("not-a-duplicate decision")
        verbose_name_plural = _("not-a-duplicate decisions")
        constraints = [
            models.UniqueConstraint(
                fields=["first_case", "second_case"], name="one_dismissal_per_pair"
            ),
            models.CheckConstraint(
                condition=Q(first_case__lt=models.F("second_case")), name="dismissal_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_case.code} ≠ {self.second_case.code}"


# --- crypto-erasure of a case's identity (services in cases/erasure.py) ----------------------


class ErasureReason(models.TextChoices):
    PERSON_REQUEST = "person_request", _("On request of the person")
    RETENTION = "retention", _("Retention rule")
    OTHER = "other", _("Other")


class ErasureStatus(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CARRIED_OUT = "carried_out", _("Carried out")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_ERASURE_STATUSES = (ErasureStatus.PROPOSED, ErasureStatus.APPROVED)


def _who_and_when_together(who: str, when: str) -> Q:
    return Q(**{f"{who}__isnull": True, f"{when}__isnull": True}) | Q(
        **{f"{who}__isnull": False, f"{when}__isnull": False}
    )


def _differ(first: str, second: str) -> Q:
    return (
        Q(**{f"{first}__isnull": True})
        | Q(**{f"{second}__isnull": True})
        | ~Q(**{first: models.F(second)})
    )


@track_history()
class ErasureRequest(CachedChoiceLabels, models.Model):
    """A request (or a retention-rule proposal) to crypto-erase a case's identity. Carried out
    when two people, neither of them the requester, have approved it."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="erasure_requests", verbose_name=_("case")
    )
    reason = models.CharField(_("reason"), max_length=16, choices=ErasureReason.choices)
    note = models.CharField(
        _("note"),
        max_length=500,
        blank=True,
        help_text=_(
            "Not encrypted, and kept after the erasure: never write a name, number, place or "
            "anything else that could identify the person."
        ),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ErasureStatus.choices, default=ErasureStatus.PROPOSED
    )
    proposed_by_rule = models.BooleanField(_("proposed by the retention rule"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("first approval by"),
    )
    first_approved_at = models.DateTimeField(_("first approval at"), null=True, blank=True)
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("second approval by"),
    )
    second_approved_at = models.DateTimeField(_("second approval at"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rejected by"),
    )
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    rejection_reason = models.CharField(_("reason for the rejection"), max_length=500, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    carried_out_at = models.DateTimeField(_("carried out at"), null=True, blank=True)

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        ordering = ["-requested_at", "-pk"]
        permissions = [
            ("request_erasure", _("Can request the erasure of a case's identity")),
            ("approve_erasure", _("Can approve or reject the erasure of a case's identity")),
        ]
        constraints = [
            # A person asks, or the retention rule proposes: never both, never neither.
            models.CheckConstraint(
                condition=Q(proposed_by_rule=True, requested_by__isnull=True)
                | Q(proposed_by_rule=False, requested_by__isnull=False),
                name="erasure_requested_by_person_or_rule",
            ),
            # Four eyes: two approvers, different from each other and from the requester.
            models.CheckConstraint(
                condition=_differ("first_approved_by", "requested_by"),
                name="erasure_first_approver_not_requester",
            ),
            models.CheckConstraint(
                condition=_differ("second_approved_by", "requested_by"),
                name="erasure_second_approver_not_requester",
            ),
            models.CheckConstraint(
                condition=_differ("second_approved_by", "first_approved_by"),
                name="erasure_two_different_approvers",
            ),
            models.CheckConstraint(
                condition=Q(second_approved_by__isnull=True) | Q(first_approved_by__isnull=False),
                name="erasure_second_approval_after_first",
            ),
            models.CheckConstraint(
                condition=_who_and_when_together("first_approved_by", "first_approved_at"),
                name="erasure_first_approval_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=_who_and_when_together("second_approved_by", "second_approved_at"),
                name="erasure_second_approval_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=_who_and_when_together("rejected_by", "rejected_at"),
                name="erasure_rejection_has_who_and_when",
            ),
            # Each status carries exactly the facts that lead to it.
            models.CheckConstraint(
                condition=(
                    Q(
                        status=ErasureStatus.PROPOSED,
                        second_approved_by__isnull=True,
                        rejected_at__isnull=True,
                        cancelled_at__isnull=True,
                        carried_out_at__isnull=True,
                    )
                    | Q(
                        status=ErasureStatus.APPROVED,
                        second_approved_by__isnull=False,
                        rejected_at__isnull=True,
                        cancelled_at__isnull=True,
                        carried_out_at__isnull=True,
                    )
                    | Q(
                        status=ErasureStatus.CARRIED_OUT,
                        second_approved_by__isnull=False,
                        rejected_at__isnull=True,
                        cancelled_at__isnull=True,
                        carried_out_at__isnull=False,
                    )
                    | (
                        Q(
                            status=ErasureStatus.REJECTED,
                            second_approved_by__isnull=True,
                            rejected_at__isnull=False,
                            cancelled_at__isnull=True,
                            carried_out_at__isnull=True,
                        )
                        & ~Q(rejection_reason="")
                    )
                    | Q(
                        status=ErasureStatus.CANCELLED,
                        second_approved_by__isnull=True,
                        rejected_at__isnull=True,
                        cancelled_at__isnull=False,
                        carried_out_at__isnull=True,
                    )
                ),
                name="erasure_status_consistent",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=OPEN_ERASURE_STATUSES),
                name="one_open_erasure_request_per_case",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status=ErasureStatus.CARRIED_OUT),
                name="one_erasure_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code} / {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ERASURE_STATUSES

    @property
    def approvals(self) -> int:
        return (self.first_approved_by_id is not None) + (self.second_approved_by_id is not None)
