"""The states and kinds of payments, shared by the models, services and pages."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash against acknowledgement")
    MOBILE_MONEY = "mobile_money", _("Mobile money")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class BatchStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    DISBURSING = "disbursing", _("Disbursing")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    UNCLAIMED = "unclaimed", _("Unclaimed")
    CANCELLED = "cancelled", _("Cancelled")


class OneOffKind(models.TextChoices):
    REWARD = "reward", _("Reward for items brought")
    RELOCATION = "relocation", _("Relocation grant")
    MEDICAL = "medical", _("Medical costs")


class OneOffStatus(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Paid")


class LedgerAccount(models.TextChoices):
    COMMITTED = "committed", _("Committed (approved, not yet paid)")
    DISBURSED = "disbursed", _("Disbursed")
    RELEASED = "released", _("Released (failed, unclaimed or cancelled)")
