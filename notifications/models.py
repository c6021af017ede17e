"""Notifications (one per event and recipient), staff members' alert targets (their URLs
encrypted), the out-of-band deliveries, the administrators' out-of-band floor per kind, and the
watchdog's memory of late scheduled tasks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.kinds import render
from protection.choice_labels import CachedChoiceLabels
from protection.fields import EncryptedField, ProtectedModel


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    URGENT = "urgent", _("Urgent")


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.URGENT: 2}


class Notification(CachedChoiceLabels, models.Model):
    """One alert for one member of staff. Its text is made from its kind and parameters when it
    is shown (in the reader's language), so no free text, and no identity, is ever stored."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(max_length=100, verbose_name=_("kind"))
    severity = models.CharField(max_length=10, choices=Severity.choices, verbose_name=_("severity"))
    parameters = models.JSONField(default=dict, blank=True, verbose_name=_("parameters"))
    link = models.CharField(max_length=200, blank=True, verbose_name=_("link"))
    # What happened, once: the same event never notifies the same person twice.
    event_key = models.CharField(max_length=200, verbose_name=_("event"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient"], name="notification_once_per_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def text(self) -> str:
        return render(self.kind, self.parameters)

    @property
    def is_urgent(self) -> bool:
        return self.severity == Severity.URGENT


class AlertTarget(ProtectedModel):
    """Where one member of staff receives alerts outside Haven: an Apprise URL (Signal through
    signal-cli's REST API, Telegram, Matrix, e-mail). The URL carries secrets (bot tokens,
    passwords): it is stored only encrypted, never tracked in the history, and shown masked."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alert_targets",
        verbose_name=_("owner"),
    )
    label = models.CharField(max_length=100, verbose_name=_("name"))
    scheme = models.CharField(max_length=20, editable=False, verbose_name=_("service"))
    display = models.CharField(max_length=200, editable=False, verbose_name=_("address"))
    url = EncryptedField(max_plaintext_length=1000, verbose_name=_("Apprise URL"))
    min_severity = models.CharField(
        max_length=10,
        choices=Severity.choices,
        default=Severity.WARNING,
        verbose_name=_("send from severity"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    last_tested_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last test"))
    last_test_ok = models.BooleanField(null=True, blank=True, verbose_name=_("last test passed"))
    last_error = models.CharField(max_length=300, blank=True, verbose_name=_("last error"))

    class Meta:
        verbose_name = _("alert target")
        verbose_name_plural = _("alert targets")
        ordering = ["owner", "label", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.display})"


class Delivery(CachedChoiceLabels, models.Model):
    """One notification sent to one target by a Celery task: at least once, retried with a
    growing pause, its attempts and last error recorded."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("notification"),
    )
    target = models.ForeignKey(
        AlertTarget, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("target")
    )
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.PENDING,
        db_index=True,
        verbose_name=_("status"),
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.CharField(max_length=300, blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last attempt"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        permissions = [("view_failing_deliveries", _("Can see alerts that could not be sent"))]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "target"], name="delivery_once_per_target"
            ),
            models.CheckConstraint(
                condition=models.Q(status="sent", sent_at__isnull=False) | ~models.Q(status="sent"),
                name="delivery_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.target_id}"


class KindSetting(models.Model):
    """The administrators' floor for a kind of alert: when set, it goes to every target of its
    recipients, whatever severity each has chosen."""

    kind = models.CharField(max_length=100, unique=True, verbose_name=_("kind"))
    always_out_of_band = models.BooleanField(
        default=True, verbose_name=_("always sent to every target")
    )
    changed_at = models.DateTimeField(auto_now=True, verbose_name=_("changed"))

    class Meta:
        verbose_name = _("alert kind setting")
        verbose_name_plural = _("alert kind settings")
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.kind


class WatchedTask(models.Model):
    """What the watchdog remembers of a scheduled task: since when it is late, so that it
    alerts once when the task falls behind and once when it runs again."""

    task = models.CharField(max_length=200, unique=True, verbose_name=_("task"))
    late_since = models.DateTimeField(null=True, blank=True, verbose_name=_("late since"))

    class Meta:
        verbose_name = _("watched task")
        verbose_name_plural = _("watched tasks")

    def __str__(self) -> str:
        return self.task
