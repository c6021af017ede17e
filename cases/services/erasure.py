"""Crypto-erasure of a case's identity: requested by a person or proposed by the retention rule,
approved by two people who are neither the requester nor each other, then carried out by
destroying the case's data key. The case keeps its code and every non-identity fact, so the
anonymous statistics stay as they were.

Every protected value of a case (the case's own fields, its family members, verification notes,
case notes, evidence file names and evidence file contents) is encrypted under the case's data
key (see `cases.models.CaseChild`), so destroying that one key erases them all at once,
including their copies in the change history, which hold the same ciphertext.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.cooling import require_settled
from accounts.models import User
from audit.models import AccessLog
from audit.services import audit_context, log_access
from cases.choices import JourneyEventKind, JourneyStage, Status
from cases.models import (
    OPEN_ERASURE_STATUSES,
    Case,
    DuplicateDismissal,
    ErasureReason,
    ErasureRequest,
    ErasureStatus,
    Evidence,
    JourneyEvent,
)
from cases.services.common import CaseError
from cases.services.evidence import _evidence_path
from cases.signals import case_erased
from operations.exports import exports_erase_naming
from operations.queueing import queue_task
from operations.tasks import keyring_backup
from protection.erasure import destroy_data_key
from protection.keys import CIPHERTEXT_PREFIX
from protection.models import DataKey

ERASE_ACTION = AccessLog.Action.ERASE

REQUEST_PERMISSION = "cases.request_erasure"
APPROVE_PERMISSION = "cases.approve_erasure"

# A case is closed when it was rejected or withdrawn, or its journey ended (resettled, or
# contact lost); it is closed since the latest of those events.
CLOSED_STATUSES = (Status.REJECTED, Status.WITHDRAWN)
CLOSED_STAGES = (JourneyStage.RESETTLED, JourneyStage.LOST_CONTACT)

# After a rejection (e.g. a legal hold), the rule leaves the case alone this long.
REJECTION_QUIET_DAYS = 365

# Reasons a person may give; the retention rule gives its own.
REQUEST_REASONS = (ErasureReason.PERSON_REQUEST, ErasureReason.OTHER)


class ErasureError(CaseError):
    """An erasure step refused for a reason a person can read and act on."""


def _refuse_and_log(actor: User | None, permission: str, what: str, target: Any) -> None:
    """A refused erasure step is worth an entry in the access log."""
    if actor is None or not actor.is_active or not actor.has_perm(permission):
        log_access(
            action=AccessLog.Action.DENIED,
            actor=actor if actor is not None and actor.pk else None,
            target=target,
            detail={"permission": permission, "action": what},
        )
        raise PermissionDenied(_("You do not have permission to do this."))


def guarded(permission: str, what: str, target: str) -> Callable:
    """Check the permission (a refusal is logged, and the entry outlives the refusal) before
    running the service in a transaction of its own."""

    def decorate(function: Callable) -> Callable:
        in_transaction = transaction.atomic(function)

        @functools.wraps(function)
        def run(*, actor: User, **kwargs: Any):
            _refuse_and_log(actor, permission, what, kwargs.get(target))
            return in_transaction(actor=actor, **kwargs)

        return run

    return decorate


def _lock(erasure: ErasureRequest) -> tuple[ErasureRequest, Case]:
    """Lock the case, then the request (always in this order, like every case service)."""
    case = Case.objects.select_for_update().get(pk=erasure.case_id)
    locked = ErasureRequest.objects.select_for_update().get(pk=erasure.pk)
    return locked, case


def _label(erasure: ErasureRequest, case: Case) -> str:
    return f"{case.code} / {erasure.pk}"


# --- requesting ----------------------------------------------------------------------------------


@guarded(REQUEST_PERMISSION, "erasure.request", target="case")
def erasure_request(
    *, case: Case, actor: User, reason: str, note: str = "", confirmation: str
) -> ErasureRequest:
    """Ask for a case's identity to be erased; the typed case code confirms which case."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if confirmation.strip().upper() != case.code:
        raise ErasureError(_("Type the case code exactly as shown to confirm."))
    if reason not in REQUEST_REASONS:
        raise ErasureError(_("Choose why the identity should be erased."))
    note = note.strip()
    if reason == ErasureReason.OTHER and not note:
        raise ErasureError(_("Say why, without naming or describing the person."))
    if case.is_erased:
        raise ErasureError(_("This case's identity has already been erased."))
    if ErasureRequest.objects.filter(case=case, status__in=OPEN_ERASURE_STATUSES).exists():
        raise ErasureError(_("An erasure of this case is already waiting for approval."))
    require_settled(actor, REQUEST_PERMISSION)
    with audit_context(actor=actor, action="case.erasure_request"):
        erasure = ErasureRequest.objects.create(
            case=case, reason=reason, note=note, requested_by=actor
        )
    return erasure


# --- approving, and carrying out -----------------------------------------------------------------


@guarded(APPROVE_PERMISSION, "erasure.approve", target="erasure")
def erasure_approve(
    *, erasure: ErasureRequest, actor: User, confirmation: str, request: Any = None
) -> ErasureRequest:
    """Give one of the two approvals; the second one erases the identity at once."""
    erasure, case = _lock(erasure)
    if confirmation.strip().upper() != case.code:
        raise ErasureError(_("Type the case code exactly as shown to confirm."))
    if erasure.status != ErasureStatus.PROPOSED:
        raise ErasureError(
            _("This request is %(status)s: it can no longer be approved.")
            % {"status": erasure.get_status_display().lower()}
        )
    if erasure.requested_by_id == actor.pk:
        raise ErasureError(_("You asked for this erasure: two other people must approve it."))
    if erasure.first_approved_by_id == actor.pk:
        raise ErasureError(
            _("You have already approved this erasure: a second person must approve it.")
        )
    require_settled(actor, APPROVE_PERMISSION)
    if case.is_erased:
        raise ErasureError(_("This case's identity has already been erased."))
    if erasure.proposed_by_rule and not is_closed(case):
        raise ErasureError(
            _("The case has been re-opened since the rule proposed this: reject the proposal.")
        )
    now = timezone.now()
    if erasure.first_approved_by_id is None:
        erasure.first_approved_by, erasure.first_approved_at = actor, now
        with audit_context(actor=actor, action="case.erasure_approve"):
            erasure.save(update_fields=["first_approved_by", "first_approved_at"])
        return erasure
    erasure.second_approved_by, erasure.second_approved_at = actor, now
    erasure.status = ErasureStatus.APPROVED
    with audit_context(actor=actor, action="case.erasure_approve"):
        erasure.save(update_fields=["second_approved_by", "second_approved_at", "status"])
    return _carry_out(erasure=erasure, case=case, actor=actor, request=request)


def _carry_out(
    *, erasure: ErasureRequest, case: Case, actor: User, request: Any = None
) -> ErasureRequest:
    """Destroy the case's data key, in the transaction of the second approval."""
    storage_names = list(
        Evidence.objects.filter(case=case).values_list("storage_name", "data_key_id")
    )
    foreign_keys = {key for _name, key in storage_names} - {case.data_key_id}
    if foreign_keys:  # CaseChild makes this impossible; refuse rather than erase half.
        raise ErasureError(_("Some of this case's files are not under its key: nothing erased."))
    with audit_context(actor=actor, action="case.erase", erasure_request=erasure.pk):
        destroy_data_key(case.data_key)
        # The reasons two cases were found to be different people: about this person too.
        for key in dismissal_keys_of(case):
            destroy_data_key(key)
        # What other apps keep about the person under keys of their own (journeys) goes too,
        # recorded in this erasure's history context (one per request or task: pghistory
        # merges a context entered inside another into it).
        case_erased.send(sender=Case, case=case, actor=actor)
        # And the exports that name the person (a payroll sheet with names, a payout list).
        exports_erase_naming(case_ids=[case.pk])
        # A new version makes any edit form opened before the erasure stale; save() is not
        # used, since it would write back the blind indexes the erasure has just blanked.
        Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
        erasure.status, erasure.carried_out_at = ErasureStatus.CARRIED_OUT, timezone.now()
        erasure.save(update_fields=["status", "carried_out_at"])
    log_access(
        action=ERASE_ACTION,
        actor=actor,
        request=request,
        target=case,
        detail={"erasure_request": erasure.pk, "proposed_by_rule": erasure.proposed_by_rule},
    )
    transaction.on_commit(
        functools.partial(_wipe_evidence_files, [name for name, _key in storage_names], case)
    )
    # A keyring without the destroyed key, at once: from then on, only keyrings written before
    # the erasure can open the case in old backups, and they age out (HAVEN_KEYRING_RETENTION_DAYS).
    transaction.on_commit(lambda: queue_task(keyring_backup))
    return erasure


def dismissal_keys_of(case: Case) -> list[DataKey]:
    """The keys of the not-a-duplicate decisions about this case and any other."""
    return list(
        DataKey.objects.filter(
            pk__in=DuplicateDismissal.objects.filter(
                Q(first_case=case) | Q(second_case=case)
            ).values("data_key")
        )
    )


def _wipe_evidence_files(storage_names: list[str], case: Case) -> None:
    """Leave only the header of each evidence file: its ciphertext, already unreadable without
    the destroyed key, is gone from the disk too (and so from later file backups)."""
    header = f"{CIPHERTEXT_PREFIX}{case.data_key_id}:".encode()
    for name in storage_names:
        path: Path = _evidence_path(name)
        if path.exists():
            path.write_bytes(header)


# --- rejecting and cancelling --------------------------------------------------------------------


@guarded(APPROVE_PERMISSION, "erasure.reject", target="erasure")
def erasure_reject(*, erasure: ErasureRequest, actor: User, reason: str) -> ErasureRequest:
    """Refuse a request or a rule proposal (e.g. a legal hold). After a rejection the rule
    proposes the case again only after REJECTION_QUIET_DAYS."""
    erasure, _case = _lock(erasure)
    if erasure.status != ErasureStatus.PROPOSED:
        raise ErasureError(
            _("This request is %(status)s: it can no longer be rejected.")
            % {"status": erasure.get_status_display().lower()}
        )
    if not reason.strip():
        raise ErasureError(_("Give a reason for the rejection."))
    erasure.status = ErasureStatus.REJECTED
    erasure.rejected_by, erasure.rejected_at = actor, timezone.now()
    erasure.rejection_reason = reason.strip()[:500]
    with audit_context(actor=actor, action="case.erasure_reject"):
        erasure.save(update_fields=["status", "rejected_by", "rejected_at", "rejection_reason"])
    return erasure


@guarded(REQUEST_PERMISSION, "erasure.cancel", target="erasure")
def erasure_cancel(*, erasure: ErasureRequest, actor: User) -> ErasureRequest:
    """The requester withdraws a request that has not been carried out."""
    erasure, _case = _lock(erasure)
    if erasure.requested_by_id != actor.pk:
        raise ErasureError(_("Only the person who asked for this erasure can cancel it."))
    if erasure.status != ErasureStatus.PROPOSED:
        raise ErasureError(
            _("This request is %(status)s: it can no longer be cancelled.")
            % {"status": erasure.get_status_display().lower()}
        )
    erasure.status = ErasureStatus.CANCELLED
    erasure.cancelled_by, erasure.cancelled_at = actor, timezone.now()
    with audit_context(actor=actor, action="case.erasure_cancel"):
        erasure.save(update_fields=["status", "cancelled_by", "cancelled_at"])
    return erasure


# --- the retention rule --------------------------------------------------------------------------


def _closed_condition() -> Q:
    return Q(status__in=CLOSED_STATUSES) | Q(journey_stage__in=CLOSED_STAGES)


def is_closed(case: Case) -> bool:
    return case.status in CLOSED_STATUSES or case.journey_stage in CLOSED_STAGES


def with_closed_since(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate `closed_since`: the latest closing event of each closed case. A stage counts
    from its journey event; a rejection from its decision; a withdrawal, which records no date
    of its own, from the case's last change (later, never earlier, than the withdrawal)."""
    stage_reached = Subquery(
        JourneyEvent.objects.filter(
            case=OuterRef("pk"), kind=JourneyEventKind.STAGE, stage=OuterRef("journey_stage")
        )
        .order_by("-at")
        .values("at")[:1]
    )
    return cases.annotate(
        closed_since=Greatest(
            models.Case(
                When(journey_stage__in=CLOSED_STAGES, then=Coalesce(stage_reached, "updated_at"))
            ),
            models.Case(When(status=Status.REJECTED, then=Coalesce("decided_at", "updated_at"))),
            models.Case(When(status=Status.WITHDRAWN, then=F("updated_at"))),
        )
    )


def cases_due_for_erasure(*, now: datetime.datetime | None = None) -> QuerySet[Case]:
    """Closed cases past the retention period, not erased, with no open request and no
    rejection in the last REJECTION_QUIET_DAYS."""
    days = settings.HAVEN_ERASURE_AFTER_CLOSURE_DAYS
    if days <= 0:
        return Case.objects.none()
    now = now or timezone.now()
    requests = ErasureRequest.objects.filter(case=OuterRef("pk"))
    return (
        with_closed_since(Case.objects.filter(_closed_condition()))
        .filter(closed_since__lt=now - datetime.timedelta(days=days))
        .filter(data_key__destroyed_at__isnull=True)
        .exclude(Exists(requests.filter(status__in=OPEN_ERASURE_STATUSES)))
        .exclude(
            Exists(
                requests.filter(
                    status=ErasureStatus.REJECTED,
                    rejected_at__gte=now - datetime.timedelta(days=REJECTION_QUIET_DAYS),
                )
            )
        )
        .only("pk", "code")
        .order_by("pk")
    )


def erasure_propose_by_rule(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The nightly run: propose every case due for erasure, once; cancel rule proposals whose
    case has been re-opened meanwhile. Safe to run twice or at the same time."""
    proposed = 0
    with audit_context(actor=None, action="case.erasure_propose"):
        for case in cases_due_for_erasure(now=now):
            try:
                with transaction.atomic():
                    ErasureRequest.objects.create(
                        case=case, reason=ErasureReason.RETENTION, proposed_by_rule=True
                    )
            except IntegrityError:
                continue  # another run proposed it (or someone asked) meanwhile
            proposed += 1
        cancelled = ErasureRequest.objects.filter(
            proposed_by_rule=True, status=ErasureStatus.PROPOSED
        ).exclude(Q(case__status__in=CLOSED_STATUSES) | Q(case__journey_stage__in=CLOSED_STAGES))
        cancelled = cancelled.update(status=ErasureStatus.CANCELLED, cancelled_at=timezone.now())
    return {"proposed": proposed, "cancelled": cancelled}


# --- reading -------------------------------------------------------------------------------------


def awaiting_approval(*, user: User) -> QuerySet[ErasureRequest]:
    """Open requests this user could approve (not their own, not already approved by them)."""
    if not user.has_perm(APPROVE_PERMISSION):
        return ErasureRequest.objects.none()
    return (
        ErasureRequest.objects.filter(status=ErasureStatus.PROPOSED)
        .exclude(requested_by=user)
        .exclude(first_approved_by=user)
        .select_related("case")
        .order_by("requested_at", "pk")
    )
