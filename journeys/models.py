"""A journey plan per case, its check-in windows, check-ins, code-word checks and the escalation
steps of a missed check-in. Everything but the coarse place names and the clock is encrypted
under a data key of the journey's own, so that the route can be destroyed while the case lives
on; the database makes each escalation step unique per window."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from protection.fields import EncryptedField, ProtectedModel
from protection.keys import create_data_key


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("Text message")
    SIGNAL = "signal", _("Signal")
    TELEGRAM = "telegram", _("Telegram")
    PARTNER = "partner", _("Through a partner")
    IN_PERSON = "in_person", _("In person")


class JourneyStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    ARRIVED = "arrived", _("Arrived")
    CANCELLED = "cancelled", _("Cancelled")


class CodeWordResult(models.TextChoices):
    ALL_CLEAR = "all_clear", _("All clear")
    DURESS = "duress", _("DURESS")
    NO_MATCH = "no_match", _("No match")


class Step(models.IntegerChoices):
    LEAD = 1, _("Lead handler alerted")
    BACKUP = 2, _("Backup handler and coordinator alerted")
    CONTINGENCY = 3, _("Contingency incident opened")


class ClosedReason(models.TextChoices):
    LATE_CHECK_IN = "late_check_in", _("A late check-in arrived")
    ARRIVED = "arrived", _("The person arrived")
    CANCELLED = "cancelled", _("The journey was cancelled")


class ContingencyKind(models.TextChoices):
    WARN_PERSON = "warn_person", _("Warn a person")
    ALERT_PARTNER = "alert_partner", _("Alert a partner")
    SAFE_HOUSE = "safe_house", _("Safe house the person knows about")
    OTHER = "other", _("Other step")


class Problem(models.TextChoices):
    """What went wrong on a journey, as the debrief records it: categories in clear, kept for
    statistics after the journey's key is destroyed (the words about it are encrypted)."""

    MISSED_CHECK_IN = "missed_check_in", _("A check-in was missed")
    LOST_CONTACT = "lost_contact", _("Contact was lost for a while")
    CHECKPOINT = "checkpoint", _("Stopped or searched at a checkpoint")
    ROUTE_CHANGED = "route_changed", _("The route had to change")
    TRANSPORT = "transport", _("Transport failed or was late")
    PHONE = "phone", _("Phone lost, taken or without power")
    FAMILY = "family", _("Family members separated or delayed")
    HEALTH = "health", _("Illness or injury")
    MONEY = "money", _("Money ran out or was demanded")
    OTHER = "other", _("Something else")


@track_history(exclude=["all_clear_hash", "duress_hash"])
class Journey(ProtectedModel):
    """The plan of one journey of a case. The clock (windows and grace) is in clear because the
    sweep reads it in SQL; what the plan says is encrypted under the journey's own data key."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="journeys", verbose_name=_("case")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=JourneyStatus.choices, default=JourneyStatus.ACTIVE
    )
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("planned by"),
    )
    lead_handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lead handler"),
    )
    backup_handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("backup handler"),
    )
    # Encrypted: when, how to reach the person, who travels with them.
    planned_departure = EncryptedField(_("planned departure"), max_plaintext_length=40)
    planned_arrival = EncryptedField(_("planned arrival"), max_plaintext_length=40)
    primary_channel = EncryptedField(_("primary channel"), max_plaintext_length=20)
    fallback_channel = EncryptedField(_("fallback channel"), max_plaintext_length=20)
    channel_details = EncryptedField(
        _("how to reach the person"), blank=True, null=True, max_plaintext_length=1000
    )
    travellers = EncryptedField(
        _("family members travelling"), blank=True, null=True, max_plaintext_length=1000
    )
    # Code words: hashed like passwords, never shown again.
    all_clear_hash = models.CharField(_("all-clear word (hashed)"), max_length=200, editable=False)
    duress_hash = models.CharField(_("duress word (hashed)"), max_length=200, editable=False)
    # The clock: in clear, read by the sweep.
    grace_minutes = models.PositiveIntegerField(_("grace period (minutes)"))
    every_hours = models.PositiveSmallIntegerField(_("every N hours"), null=True, blank=True)
    created_at = models.DateTimeField(_("planned at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # Set when the journey's data key was destroyed and its code-word hashes blanked.
    minimised_at = models.DateTimeField(_("minimised at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("journey")
        verbose_name_plural = _("journeys")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("plan_journey", _("Can plan journeys and set code words")),
            ("watch_journeys", _("Can watch every journey and handle escalations")),
            ("handle_journey", _("Can be a journey's handler and record check-ins")),
            ("view_journey_reports", _("Can see journey statistics")),
            ("export_journey_reports", _("Can export journey statistics")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(lead_handler=F("backup_handler")),
                name="journey_lead_is_not_backup",
            ),
            models.CheckConstraint(
                condition=Q(grace_minutes__gt=0), name="journey_grace_is_positive"
            ),
            # A minimised journey's hashes are both blank.
            models.CheckConstraint(
                condition=~Q(all_clear_hash=F("duress_hash")) | Q(minimised_at__isnull=False),
                name="journey_code_words_differ",
            ),
            # One journey in progress per case: one clock to watch.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="active"),
                name="one_active_journey_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code} / {self.pk}"

    def new_data_key(self):
        # The journey's own key: minimisation destroys it while the case lives on.
        return create_data_key(purpose="journeys.journey")

    @property
    def departure_at(self) -> datetime.datetime | None:
        return _parse_moment(self.planned_departure)

    @property
    def arrival_at(self) -> datetime.datetime | None:
        return _parse_moment(self.planned_arrival)

    @property
    def primary_channel_label(self) -> str:
        return _channel_label(self.primary_channel)

    @property
    def fallback_channel_label(self) -> str:
        return _channel_label(self.fallback_channel)

    @property
    def is_active(self) -> bool:
        return self.status == JourneyStatus.ACTIVE

    @property
    def is_minimised(self) -> bool:
        return self.minimised_at is not None


def _channel_label(value) -> str:
    try:
        return str(Channel(str(value)).label)
    except ValueError:
        return str(value)


def _parse_moment(value) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


class JourneyChild(ProtectedModel):
    """A record whose protected fields share its journey's data key."""

    class Meta:
        abstract = True

    def new_data_key(self):
        return self.journey.data_key


@track_history()
class Leg(JourneyChild):
    journey = models.ForeignKey(
        Journey, on_delete=models.CASCADE, related_name="legs", verbose_name=_("journey")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    from_place = models.CharField(_("from (coarse place)"), max_length=100)
    to_place = models.CharField(_("to (coarse place)"), max_length=100)
    details = EncryptedField(_("details"), blank=True, null=True, max_plaintext_length=2000)
    # How long the leg took, from the debrief: a timing kept for statistics.
    hours_taken = models.DecimalField(
        _("hours taken"), max_digits=5, decimal_places=1, null=True, blank=True
    )

    class Meta:
        verbose_name = _("leg")
        verbose_name_plural = _("legs")
        ordering = ["journey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "position"], name="one_leg_per_position"),
            models.CheckConstraint(
                condition=Q(hours_taken__isnull=True) | Q(hours_taken__gte=0),
                name="leg_hours_taken_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_place} → {self.to_place}"


@track_history()
class ContingencyStep(JourneyChild):
    journey = models.ForeignKey(
        Journey, on_delete=models.CASCADE, related_name="contingency", verbose_name=_("journey")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    kind = EncryptedField(_("kind"), max_plaintext_length=20)
    details = EncryptedField(_("what to do"), max_plaintext_length=1000)
    house_code = EncryptedField(
        _("safe house code"), blank=True, null=True, max_plaintext_length=50
    )

    class Meta:
        verbose_name = _("contingency step")
        verbose_name_plural = _("contingency steps")
        ordering = ["journey", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "position"], name="one_contingency_step_per_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.journey_id} / {self.position}"


class CheckInWindow(models.Model):
    """When the person must check in, and until when (the grace period). `stopped_at` is set
    when the clock stops (arrival, cancellation): the sweep ignores stopped windows."""

    journey = models.ForeignKey(
        Journey, on_delete=models.CASCADE, related_name="windows", verbose_name=_("journey")
    )
    due_at = models.DateTimeField(_("due at"))
    grace_ends_at = models.DateTimeField(_("grace ends at"))
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("check-in window")
        verbose_name_plural = _("check-in windows")
        ordering = ["journey", "due_at"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "due_at"], name="one_window_per_moment"),
            models.CheckConstraint(
                condition=Q(grace_ends_at__gt=F("due_at")), name="window_grace_after_due"
            ),
        ]
        indexes = [
            # The sweep: windows still waiting for a check-in, by the end of their grace.
            models.Index(
                fields=["grace_ends_at"],
                condition=Q(checked_in_at__isnull=True, stopped_at__isnull=True),
                name="journeys_window_waiting",
            ),
            # The dashboards' "due soon": windows still waiting, by when they are due.
            models.Index(
                fields=["due_at"],
                condition=Q(checked_in_at__isnull=True, stopped_at__isnull=True),
                name="journeys_window_waiting_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.journey_id} @ {formats.localize(timezone.localtime(self.due_at))}"


@track_history()
class CheckIn(JourneyChild):
    journey = models.ForeignKey(
        Journey, on_delete=models.CASCADE, related_name="check_ins", verbose_name=_("journey")
    )
    at = models.DateTimeField(_("time"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    result = models.CharField(_("code word"), max_length=10, choices=CodeWordResult.choices)
    coarse_location = models.CharField(_("coarse location"), max_length=100, blank=True)
    note = EncryptedField(_("note"), blank=True, null=True, max_plaintext_length=2000)
    late = models.BooleanField(_("late"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["journey", "-at", "-pk"]
        indexes = [models.Index(fields=["journey", "at"], name="journeys_checkin_journey_at")]

    def __str__(self) -> str:
        return f"{self.journey_id} @ {formats.localize(timezone.localtime(self.at))}"


class CodeWordCheck(models.Model):
    """One word typed by a member of staff and its result (never the word): the rate limit and
    the alert on repeated misses count these."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="code_word_checks")
    at = models.DateTimeField(_("time"), auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("result"), max_length=10, choices=CodeWordResult.choices)

    class Meta:
        verbose_name = _("code-word check")
        verbose_name_plural = _("code-word checks")
        indexes = [models.Index(fields=["journey", "at"], name="journeys_wordcheck_journey_at")]

    def __str__(self) -> str:
        return f"{self.journey_id} @ {formats.localize(timezone.localtime(self.at))}"


class Escalation(models.Model):
    """One step of the escalation of one missed window, recorded exactly once (the unique
    constraint): the sweep inserts with ON CONFLICT DO NOTHING."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="escalations")
    window = models.ForeignKey(CheckInWindow, on_delete=models.CASCADE, related_name="escalations")
    step = models.PositiveSmallIntegerField(_("step"), choices=Step.choices)
    at = models.DateTimeField(_("escalated at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_reason = models.CharField(
        _("closed because"), max_length=14, choices=ClosedReason.choices, blank=True
    )

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["-at", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "window", "step"], name="one_escalation_per_window_and_step"
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | ~Q(closed_reason=""),
                name="escalation_closed_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.journey_id} / {self.window_id} / {self.step}"

    @property
    def is_incident(self) -> bool:
        return self.step == Step.CONTINGENCY


class Acknowledgement(models.Model):
    """A contingency step of an incident, done and acknowledged by a named person."""

    escalation = models.ForeignKey(
        Escalation, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    contingency_step = models.ForeignKey(
        ContingencyStep, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("acknowledged at"), auto_now_add=True)

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "contingency_step"], name="one_acknowledgement_per_step"
            )
        ]

    def __str__(self) -> str:
        return f"{self.escalation_id} / {self.contingency_step_id}"


@track_history()
class Debrief(JourneyChild):
    """What the handlers learnt from a journey that arrived. The categories, channels and kinds
    of contingency step are in clear for the reports; the notes are encrypted under the
    journey's key and go with it at minimisation."""

    journey = models.OneToOneField(
        Journey, on_delete=models.CASCADE, related_name="debrief", verbose_name=_("journey")
    )
    problems = ArrayField(
        models.CharField(max_length=20, choices=Problem.choices),
        default=list,
        blank=True,
        verbose_name=_("what went wrong"),
    )
    contingency_used = ArrayField(
        models.CharField(max_length=20, choices=ContingencyKind.choices),
        default=list,
        blank=True,
        verbose_name=_("contingency steps used"),
    )
    channels_worked = ArrayField(
        models.CharField(max_length=10, choices=Channel.choices),
        default=list,
        blank=True,
        verbose_name=_("channels that worked"),
    )
    channels_failed = ArrayField(
        models.CharField(max_length=10, choices=Channel.choices),
        default=list,
        blank=True,
        verbose_name=_("channels that failed"),
    )
    notes = EncryptedField(_("notes"), blank=True, null=True, max_plaintext_length=4000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("debrief")
        verbose_name_plural = _("debriefs")

    def __str__(self) -> str:
        return f"{self.journey_id}"

    @staticmethod
    def _labels(values: list[str], choices) -> list[str]:
        labels = dict(choices.choices)
        return [str(labels.get(value, value)) for value in values]

    @property
    def problem_labels(self) -> list[str]:
        return self._labels(self.problems, Problem)

    @property
    def contingency_labels(self) -> list[str]:
        return self._labels(self.contingency_used, ContingencyKind)

    @property
    def worked_labels(self) -> list[str]:
        return self._labels(self.channels_worked, Channel)

    @property
    def failed_labels(self) -> list[str]:
        return self._labels(self.channels_failed, Channel)
