"""Every change to money, in one place, a module per noun. Each function locks what it changes,
checks permission, state and the four-eyes rules, saves, writes the ledger in the same
transaction and names the actor in the history. The modules import one another directly; this
package re-exports their public names for the callers (views, tasks, demo data, tests)."""

from payments.services.batches import batch_approve, batch_close, batch_reject, is_preparer
from payments.services.common import PaymentError, guarded, month_end, month_of, parse_period
from payments.services.ledger import batch_ledger_total, batch_lines_total
from payments.services.one_offs import (
    one_off_approve,
    one_off_pay,
    one_off_propose,
    one_off_reject,
    required_approvals,
    reward_proposal,
)
from payments.services.payouts import (
    OUTCOMES,
    batch_take_for_payout,
    payment_carry_forward,
    payments_record,
)
from payments.services.plans import (
    PLAN_TRANSITIONS,
    approved_payouts_unchanged,
    plan_amount_for,
    plan_create,
    plan_set_payout,
    plan_set_status,
)
from payments.services.runs import disbursement_run
from payments.services.settlements import (
    SettlementPreview,
    settlement_preview,
    settlement_record,
)

__all__ = [
    "OUTCOMES",
    "PLAN_TRANSITIONS",
    "PaymentError",
    "SettlementPreview",
    "approved_payouts_unchanged",
    "batch_approve",
    "batch_close",
    "batch_ledger_total",
    "batch_lines_total",
    "batch_reject",
    "batch_take_for_payout",
    "disbursement_run",
    "guarded",
    "is_preparer",
    "month_end",
    "month_of",
    "one_off_approve",
    "one_off_pay",
    "one_off_propose",
    "one_off_reject",
    "parse_period",
    "payment_carry_forward",
    "payments_record",
    "plan_amount_for",
    "plan_create",
    "plan_set_payout",
    "plan_set_status",
    "required_approvals",
    "reward_proposal",
    "settlement_preview",
    "settlement_record",
]
