"""Requests to crypto-erase a case's identity (the services are in cases/services/erasure.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import track_history
from cases.models.case import Case
from protection.choice_labels import CachedChoiceLabels


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
