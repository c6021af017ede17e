"""Stipend plans, monthly batches and their lines, rewards and other one-off payments, and the
append-only ledger. Money is Decimal plus an ISO currency code; the database refuses the states
that must never exist (a line paid twice, a batch approved by its preparer, a changed ledger)."""

from payments.choices import (
    BatchStatus,
    LedgerAccount,
    OneOffKind,
    OneOffStatus,
    PaymentMethod,
    PaymentStatus,
    PlanStatus,
)
from payments.models.disbursement import (
    MONEY,
    PAYEES_REFUSAL,
    DisbursementBatch,
    FundingSource,
    OneOffApproval,
    OneOffPayment,
    Payment,
    StipendPlan,
)
from payments.models.ledger import LedgerEntry, LedgerMonthTotal
from payments.models.rewards import RewardPolicy

__all__ = [
    "MONEY",
    "PAYEES_REFUSAL",
    "BatchStatus",
    "DisbursementBatch",
    "FundingSource",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerMonthTotal",
    "OneOffApproval",
    "OneOffKind",
    "OneOffPayment",
    "OneOffStatus",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "PlanStatus",
    "RewardPolicy",
    "StipendPlan",
]
