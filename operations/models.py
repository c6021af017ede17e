"""Exports built in the background: one row per file someone asked for (operations/exports.py)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    """A file built by a Celery task into private storage, encrypted under a data key of its
    own, for the person who asked for it only. Its arguments are ids and months, never personal
    data; `named_case_ids` records which cases' identities it holds (ids, never names), so that
    erasing one of them destroys it. Not tracked by pghistory: there is nothing to undo."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Being built")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")
        ERASED = "erased", _("Destroyed by an erasure")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=100, verbose_name=_("kind"))
    # The builder's arguments (ids, months, flags), in a canonical order so that two identical
    # requests compare equal.
    arguments = models.JSONField(default=dict, verbose_name=_("arguments"))
    fingerprint = models.CharField(max_length=300, verbose_name=_("fingerprint"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="export_jobs",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    progress_done = models.PositiveIntegerField(default=0, verbose_name=_("done"))
    progress_total = models.PositiveIntegerField(default=0, verbose_name=_("total"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    # A message a person can read (never personal data, never a traceback).
    error = models.CharField(max_length=300, blank=True, verbose_name=_("error"))
    data_key = models.ForeignKey(
        "protection.DataKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("data key"),
    )
    storage_name = models.CharField(max_length=100, blank=True, verbose_name=_("stored as"))
    filename = models.CharField(max_length=200, blank=True, verbose_name=_("file name"))
    content_type = models.CharField(max_length=100, blank=True, verbose_name=_("content type"))
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    named_case_ids = ArrayField(
        models.IntegerField(), default=list, blank=True, verbose_name=_("cases named")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("asked for at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    # Moved on at every step of progress: a job whose heartbeat stops is shown as failed.
    heartbeat_at = models.DateTimeField(verbose_name=_("last sign of life"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]
        indexes = [
            GinIndex(fields=["named_case_ids"], name="export_named_cases"),
            models.Index(fields=["status", "heartbeat_at"], name="export_status_heartbeat"),
        ]
        constraints = [
            # Two clicks start one job: one job at a time per person and export.
            models.UniqueConstraint(
                fields=["requested_by", "fingerprint"],
                condition=models.Q(status__in=["queued", "running"]),
                name="export_one_active_job_per_request",
            ),
            models.CheckConstraint(
                condition=models.Q(progress_done__lte=models.F("progress_total"))
                | models.Q(progress_total=0),
                name="export_progress_within_total",
            ),
            # A ready file has a key and a place; anything else keeps no file.
            models.CheckConstraint(
                condition=~models.Q(status="ready")
                | (models.Q(data_key__isnull=False) & ~models.Q(storage_name="")),
                name="export_ready_has_a_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.READY:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)
