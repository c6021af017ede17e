"""Monthly batches after the run: approving or rejecting a draft (never one's own) and closing a
batch once every line is recorded."""

from __future__ import annotations

import pghistory.models
from django.db import connection
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.cooling import require_settled
from accounts.models import User
from audit.services import audit_context
from payments import selectors
from payments.models import BatchStatus, DisbursementBatch, Payment, PaymentStatus
from payments.services.common import PaymentError, guarded
from payments.services.payouts import require_payout_officer
from payments.services.runs import RUN_ACTION


def is_preparer(batch: DisbursementBatch, user: User) -> bool:
    """Whether `user` prepared `batch`: made it by starting the month's run, or added lines to
    it by running the month again (each line's creation event names the run's starter, runs.py),
    even to a draft the scheduler made. A preparer never approves or rejects it."""
    if batch.prepared_by_id == user.pk:
        return True
    runs = (
        pghistory.models.Context.objects.annotate(starter=KeyTextTransform("user", "metadata"))
        .filter(
            starter=str(user.pk),  # the index of contexts by person (audit 0006)
            metadata__action=RUN_ACTION,
            metadata__period=f"{batch.period:%Y-%m}",
        )
        .values("id")
    )
    return Payment.pgh_event_model.objects.filter(
        pgh_label="insert", pgh_context_id__in=runs, batch_id=batch.pk
    ).exists()


def _lock_batch(batch: DisbursementBatch) -> DisbursementBatch:
    return DisbursementBatch.objects.select_for_update().get(pk=batch.pk)


@guarded("payments.approve_batch", "batch.approve")
def batch_approve(
    *, batch: DisbursementBatch, actor: User, payouts_seen: str | None = None
) -> DisbursementBatch:
    """Approve a complete draft batch (never one's own): its lines are committed money.

    `payouts_seen` is the token of the approval page the approver read (selectors.payouts_seen):
    if a payout of one of the batch's lines was set since, the approval is refused and they must
    look again. Changing a payout locks the draft batches as this does, so a change either
    comes before this check or waits for the approval and leaves the approved lines alone."""
    batch = _lock_batch(batch)
    if batch.status != BatchStatus.DRAFT:
        raise PaymentError(_("Only a draft batch can be approved."))
    if is_preparer(batch, actor):
        raise PaymentError(_("A batch must be approved by someone other than its preparer."))
    set_by_actor = selectors.payouts_set_by(batch=batch, user=actor)
    if set_by_actor:
        raise PaymentError(
            ngettext(
                "You set where %(lines)d line of this batch is paid since the last batch: "
                "someone else must approve it.",
                "You set where %(lines)d lines of this batch are paid since the last batch: "
                "someone else must approve it.",
                set_by_actor,
            )
            % {"lines": set_by_actor}
        )
    require_settled(actor, "payments.approve_batch")
    if batch.run_completed_at is None:
        raise PaymentError(
            _(
                "The run for this batch has not finished: wait for it, or start it again if it "
                "stopped."
            )
        )
    if not batch.line_count:
        raise PaymentError(_("An empty batch cannot be approved."))
    # What is committed is what the approver was shown: the lines as counted at the run's end.
    if selectors.export_totals(batch=batch) != (batch.line_count, batch.total):
        raise PaymentError(
            _(
                "This batch's lines changed since its run was counted. Nothing was approved: "
                "run the month again, then look at the batch again."
            )
        )
    if payouts_seen is not None and payouts_seen != selectors.payouts_seen(batch=batch):
        raise PaymentError(
            _(
                "Where some lines of this batch are paid was changed after you opened this "
                "page. Nothing was approved: look at the changes again, then approve."
            )
        )
    batch.status, batch.approved_by, batch.approved_at = BatchStatus.APPROVED, actor, timezone.now()
    with audit_context(actor=actor, action="batch.approve"):
        batch.save(update_fields=["status", "approved_by", "approved_at"])
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO payments_ledgerentry
                    (at, account, amount, currency, funding_source_id, batch_id, payment_id,
                     actor_id, memo)
                SELECT now(), 'committed', amount, currency, funding_source_id, batch_id, id, %s,
                       'batch approved'
                FROM payments_payment WHERE batch_id = %s AND status = 'pending'
                """,
                [actor.pk, batch.pk],
            )
    return batch


@guarded("payments.approve_batch", "batch.reject")
def batch_reject(*, batch: DisbursementBatch, actor: User, reason: str) -> DisbursementBatch:
    """Reject a draft (never one's own): its lines are cancelled and the month can be run again."""
    batch = _lock_batch(batch)
    if batch.status != BatchStatus.DRAFT:
        raise PaymentError(_("Only a draft batch can be rejected."))
    if is_preparer(batch, actor):
        raise PaymentError(_("A batch must be rejected by someone other than its preparer."))
    if not reason.strip():
        raise PaymentError(_("Give a reason for rejecting the batch."))
    with audit_context(actor=actor, action="batch.reject"):
        Payment.objects.filter(batch=batch).update(status=PaymentStatus.CANCELLED)
        batch.status, batch.rejected_by, batch.rejection_reason = (
            BatchStatus.REJECTED,
            actor,
            reason.strip(),
        )
        batch.save(update_fields=["status", "rejected_by", "rejection_reason"])
    return batch


@guarded("payments.record_payout", "batch.close")
def batch_close(
    *, batch: DisbursementBatch, actor: User, carry_forward: bool = False
) -> DisbursementBatch:
    """Close a batch whose every line is recorded; with `carry_forward`, its failed and
    unclaimed lines not yet carried are carried into next month's run in the same step.
    Closing ends the payout window: nobody sees its payees any more."""
    batch = _lock_batch(batch)
    if batch.status not in (BatchStatus.APPROVED, BatchStatus.DISBURSING):
        raise PaymentError(_("Only an approved batch being paid out can be closed."))
    if batch.status == BatchStatus.DISBURSING:
        require_payout_officer(batch, actor)
    pending = Payment.objects.filter(batch=batch, status=PaymentStatus.PENDING).count()
    if pending:
        raise PaymentError(
            _("%(count)d lines are still pending: record every line before closing the batch.")
            % {"count": pending}
        )
    batch.status, batch.closed_at = BatchStatus.CLOSED, timezone.now()
    with audit_context(actor=actor, action="batch.close"):
        if carry_forward:
            batch.carried_count = Payment.objects.filter(
                batch=batch,
                status__in=[PaymentStatus.FAILED, PaymentStatus.UNCLAIMED],
                carry_forward=False,
                carried_to__isnull=True,
            ).update(carry_forward=True)
        else:
            batch.carried_count = 0
        batch.save(update_fields=["status", "closed_at"])
    return batch
