"""The payout window, in one place: who may see the names and wallets of a batch's lines.

Outside the payout, payments show case codes only. While a batch is being paid out (status
disbursing), the finance officer who took it for payout — recorded on the batch, never its
approver — may see the name and the wallet or bank account of that batch's lines, and of no
other batch, until it closes. Every such view and export goes through
accounts.services.record_reveal, which checks these rules (the models' REVEAL_RULE), logs the
reveal and applies the reveal budget.
"""

from __future__ import annotations

import rules

SEE_PAYEES = "payments.see_payees"  # on a DisbursementBatch
SEE_PAYEE = "payments.see_payee"  # on a StipendPlan: only through its line of the open batch
PAYOUT_PERMISSION = "payments.record_payout"


def in_payout_window(user, batch) -> bool:
    from payments.models import BatchStatus

    return bool(
        batch is not None
        and user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm(PAYOUT_PERMISSION)
        and batch.status == BatchStatus.DISBURSING
        and batch.payout_officer_id == user.pk
        and batch.approved_by_id != user.pk
    )


@rules.predicate
def pays_out_batch(user, batch) -> bool:
    return in_payout_window(user, batch)


@rules.predicate
def pays_out_plan(user, plan) -> bool:
    """The plan has a line in a batch this user is paying out now."""
    from payments.models import BatchStatus, DisbursementBatch

    if plan is None or plan.pk is None:
        return False
    batches = DisbursementBatch.objects.filter(
        status=BatchStatus.DISBURSING, payout_officer=user.pk, lines__plan=plan.pk
    ).distinct()
    return any(in_payout_window(user, batch) for batch in batches)


rules.add_perm(SEE_PAYEES, pays_out_batch)
rules.add_perm(SEE_PAYEE, pays_out_plan)
