"""Case records, a module per noun. Every model is imported here, so that Django finds them and
`from cases.models import Case` keeps working."""

# In the order of the models.py they came from: Django registers the models (and their history
# models) in import order, and that order (of deletions, of related lists) stays as it was.
# isort: off
from cases.models.case import (
    Case,
    CaseChild,
    CaseCodeCounter,
    UnderCaseKey,
    rank_group_of,
)
from cases.models.family import FamilyMember
from cases.models.items import ItemBrought
from cases.models.evidence import Evidence
from cases.models.verification import VerificationCheck
from cases.models.referrals import Partner, Referral
from cases.models.notes import CaseNote
from cases.models.journey import JourneyEvent
from cases.models.duplicates import DuplicateDismissal
from cases.models.erasure import (
    OPEN_ERASURE_STATUSES,
    ErasureReason,
    ErasureRequest,
    ErasureStatus,
)
from cases.models.team import BreakGlass, BreakGlassOutcome, BreakGlassReason, CaseTeamMember

# isort: on

__all__ = [
    "OPEN_ERASURE_STATUSES",
    "BreakGlass",
    "BreakGlassOutcome",
    "BreakGlassReason",
    "Case",
    "CaseChild",
    "CaseCodeCounter",
    "CaseNote",
    "CaseTeamMember",
    "DuplicateDismissal",
    "ErasureReason",
    "ErasureRequest",
    "ErasureStatus",
    "Evidence",
    "FamilyMember",
    "ItemBrought",
    "JourneyEvent",
    "Partner",
    "Referral",
    "UnderCaseKey",
    "VerificationCheck",
    "rank_group_of",
]
