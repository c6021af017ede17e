"""Every change to a case, a module per noun: each function locks what it changes, checks
permission and state, saves, and names the actor in the history, in one transaction.

The public functions, errors and rules are re-exported here, so that callers write
`from cases import services` and then `services.case_intake(...)`. Modules of this package import
each other directly (`from cases.services.common import CaseError`), never through this one."""

from cases.services.common import (
    ERASED_CASE_MESSAGE,
    STALE_EDIT_MESSAGE,
    CaseError,
    StaleEditError,
)
from cases.services.duplicates import (
    DuplicateCaseError,
    PossibleDuplicateWarning,
    cases_in,
    duplicate_dismiss,
    duplicate_matches,
    name_and_birth_matches,
)
from cases.services.erasure import (
    APPROVE_PERMISSION,
    CLOSED_STAGES,
    CLOSED_STATUSES,
    ERASE_ACTION,
    REJECTION_QUIET_DAYS,
    REQUEST_PERMISSION,
    REQUEST_REASONS,
    ErasureError,
    awaiting_approval,
    cases_due_for_erasure,
    erasure_approve,
    erasure_cancel,
    erasure_propose_by_rule,
    erasure_reject,
    erasure_request,
    guarded,
    is_closed,
    with_closed_since,
)
from cases.services.evidence import (
    EVIDENCE_SIGNATURES,
    evidence_add,
    evidence_content_type,
    evidence_open,
)
from cases.services.family import (
    family_member_add,
    family_member_remove,
)
from cases.services.glass import (
    break_glass_open,
    break_glass_review,
    may_review,
    open_glass,
)
from cases.services.intake import (
    CONTACT_FIELDS,
    EDITABLE_FIELDS,
    IDENTIFYING_FIELDS,
    IDENTITY_FIELDS,
    IDENTITY_LOCK_KEY,
    case_intake,
    case_update,
)
from cases.services.items import (
    item_add,
    item_remove,
)
from cases.services.journey import (
    case_arrival_by_placement_undone,
    case_arrived_by_placement,
    case_journey_plan_destroyed,
    case_set_emergency,
    case_set_stage,
    case_update_safety_plan,
)
from cases.services.notes import (
    CASE_WORKER_PERMISSIONS,
    case_note_add,
)
from cases.services.referrals import (
    REFERRAL_TRANSITIONS,
    partner_create,
    partner_set_active,
    referral_create,
    referral_set_status,
)
from cases.services.team import (
    case_assign_case_manager,
    case_assign_verifier,
    case_team_add,
    case_team_remove,
    on_team,
)
from cases.services.verification import (
    case_decide,
    case_propose_decision,
    case_reopen,
    case_start_verification,
    case_verifier_ids,
    case_withdraw,
    verification_check_record,
    verification_checklist_record,
)

__all__ = [
    "APPROVE_PERMISSION",
    "CASE_WORKER_PERMISSIONS",
    "CLOSED_STAGES",
    "CLOSED_STATUSES",
    "CONTACT_FIELDS",
    "EDITABLE_FIELDS",
    "ERASED_CASE_MESSAGE",
    "ERASE_ACTION",
    "EVIDENCE_SIGNATURES",
    "IDENTIFYING_FIELDS",
    "IDENTITY_FIELDS",
    "IDENTITY_LOCK_KEY",
    "REFERRAL_TRANSITIONS",
    "REJECTION_QUIET_DAYS",
    "REQUEST_PERMISSION",
    "REQUEST_REASONS",
    "STALE_EDIT_MESSAGE",
    "CaseError",
    "DuplicateCaseError",
    "ErasureError",
    "PossibleDuplicateWarning",
    "StaleEditError",
    "awaiting_approval",
    "break_glass_open",
    "break_glass_review",
    "case_arrival_by_placement_undone",
    "case_arrived_by_placement",
    "case_assign_case_manager",
    "case_assign_verifier",
    "case_decide",
    "case_intake",
    "case_journey_plan_destroyed",
    "case_note_add",
    "case_propose_decision",
    "case_reopen",
    "case_set_emergency",
    "case_set_stage",
    "case_start_verification",
    "case_team_add",
    "case_team_remove",
    "case_update",
    "case_update_safety_plan",
    "case_verifier_ids",
    "case_withdraw",
    "cases_due_for_erasure",
    "cases_in",
    "duplicate_dismiss",
    "duplicate_matches",
    "erasure_approve",
    "erasure_cancel",
    "erasure_propose_by_rule",
    "erasure_reject",
    "erasure_request",
    "evidence_add",
    "evidence_content_type",
    "evidence_open",
    "family_member_add",
    "family_member_remove",
    "guarded",
    "is_closed",
    "item_add",
    "item_remove",
    "may_review",
    "name_and_birth_matches",
    "on_team",
    "open_glass",
    "partner_create",
    "partner_set_active",
    "referral_create",
    "referral_set_status",
    "verification_check_record",
    "verification_checklist_record",
    "with_closed_since",
]
