"""The waiting list: verified cases and family members without a bed, in SPEC.md's order, ranked
and paged by PostgreSQL."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from cases.choices import Status as CaseStatus
from cases.models import Case, FamilyMember
from housing.models import occupant_label
from housing.selectors.stays import STAGES_NEEDING_A_BED


@dataclass
class WaitingEntry:
    case: Case
    family_member: FamilyMember | None
    waiting_since: datetime.date

    @property
    def label(self) -> str:
        member = self.family_member
        return occupant_label(self.case.code, member.pk if member is not None else None)

    @property
    def waiting_days(self) -> int:
        return (timezone.localdate() - self.waiting_since).days


# The waiting list's rule (SPEC.md: verified cases without a bed, by priority: risk, urgency,
# date), in one place and in SQL, so that PostgreSQL counts, orders and slices it however long
# it grows: emergencies first, then risk (critical first), urgency (immediate first), the day
# the wait began (the decision, else the contact) and the case code; a case's person before
# its family members. Stays "in force" are those not undone (housing.models.IN_FORCE).
WAITING_SQL = """
    WITH candidate AS NOT MATERIALIZED (
        SELECT id, code, emergency, risk_level, urgency,
               COALESCE((decided_at AT TIME ZONE %(zone)s)::date, contact_month) AS since
        FROM cases_case
        WHERE status = %(verified)s AND journey_stage = ANY(%(stages)s) {case_filter}
    ), waiting AS (
        SELECT candidate.*, NULL::bigint AS member_id
        FROM candidate
        WHERE NOT EXISTS (
            SELECT 1 FROM housing_allocation AS stay
            WHERE stay.case_id = candidate.id AND stay.family_member_id IS NULL
              AND stay.cancelled_at IS NULL AND stay.stay @> %(now)s::timestamptz
        )
        UNION ALL
        SELECT candidate.*, member.id
        FROM candidate JOIN cases_familymember AS member ON member.case_id = candidate.id
        WHERE member.needs_housing AND NOT EXISTS (
            SELECT 1 FROM housing_allocation AS stay
            WHERE stay.family_member_id = member.id
              AND stay.cancelled_at IS NULL AND stay.stay @> %(now)s::timestamptz
        )
    )
"""
WAITING_PAGE_SQL = """
    SELECT id, member_id, since FROM waiting
    ORDER BY NOT emergency,
             CASE risk_level WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
                             ELSE 3 END,
             CASE urgency WHEN 'immediate' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END,
             since, code, member_id NULLS FIRST
    LIMIT %(limit)s OFFSET %(offset)s
"""


class WaitingList:
    """The people waiting for a bed, lazily: `count()`, `oldest_since()` and slices each ask
    PostgreSQL one question (a page of the list is one query whatever its length), so that a
    Paginator pages it without loading it. Iterating reads it all: only for one case's people
    (`case=`) or in tests."""

    def __init__(self, *, case: Case | None = None) -> None:
        self.case = case
        self.now = timezone.now()
        self._count: int | None = None
        self._oldest: datetime.date | None = None

    def _parameters(self) -> dict:
        return {
            "zone": settings.TIME_ZONE,
            "verified": CaseStatus.VERIFIED,
            "stages": list(STAGES_NEEDING_A_BED),
            "now": self.now,
            "case": self.case.pk if self.case is not None else None,
        }

    def _sql(self, tail: str) -> str:
        case_filter = "AND id = %(case)s" if self.case is not None else ""
        return WAITING_SQL.format(case_filter=case_filter) + tail

    def _fetch(self, tail: str, extra: dict | None = None) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(self._sql(tail), {**self._parameters(), **(extra or {})})
            return cursor.fetchall()

    def _summary(self) -> tuple[int, datetime.date | None]:
        if self._count is None:
            ((self._count, self._oldest),) = self._fetch("SELECT count(*), min(since) FROM waiting")
        return self._count, self._oldest

    def count(self) -> int:
        return self._summary()[0]

    def __len__(self) -> int:
        return self.count()

    def oldest_since(self) -> datetime.date | None:
        """The day the longest wait began."""
        return self._summary()[1]

    def longest_wait_days(self) -> int | None:
        oldest = self.oldest_since()
        return (timezone.localdate() - oldest).days if oldest is not None else None

    def entries(self, *, offset: int = 0, limit: int | None = None) -> list[WaitingEntry]:
        """The entries from `offset` on (at most `limit`), in the list's order, in two queries
        more (their cases and family members)."""
        return self.entries_of(self.places(offset=offset, limit=limit))

    def places(
        self, *, offset: int = 0, limit: int | None = None
    ) -> list[tuple[int, int | None, datetime.date]]:
        """The list's order from `offset` on as (case, family member or None, waiting since):
        numbers and a date, nothing that names anyone (the dashboard keeps the first few for a
        minute)."""
        return [
            tuple(row) for row in self._fetch(WAITING_PAGE_SQL, {"limit": limit, "offset": offset})
        ]

    @staticmethod
    def entries_of(rows: list[tuple[int, int | None, datetime.date]]) -> list[WaitingEntry]:
        """The entries at these places, their cases and family members read now (two queries)."""
        cases = Case.objects.only(
            "pk", "code", "risk_level", "urgency", "decided_at", "contact_date", "emergency"
        ).in_bulk({case_pk for case_pk, _member, _since in rows})
        member_pks = {member_pk for _case, member_pk, _since in rows if member_pk is not None}
        members = (
            FamilyMember.objects.only("pk", "case_id", "relation", "age", "needs_housing").in_bulk(
                member_pks
            )
            if member_pks
            else {}
        )
        return [
            WaitingEntry(cases[case_pk], members.get(member_pk), since)
            for case_pk, member_pk, since in rows
            if case_pk in cases
        ]

    def __getitem__(self, index: int | slice) -> list[WaitingEntry] | WaitingEntry:
        if isinstance(index, slice):
            if index.step not in (None, 1) or (index.start or 0) < 0:
                raise ValueError("The waiting list takes plain, forward slices only.")
            start = index.start or 0
            if index.stop is None:
                return self.entries(offset=start)
            return self.entries(offset=start, limit=max(index.stop - start, 0))
        if index < 0:
            raise IndexError(index)
        found = self.entries(offset=index, limit=1)
        if not found:
            raise IndexError(index)
        return found[0]

    def __iter__(self):
        return iter(self.entries())


def waiting_list(*, case: Case | None = None) -> WaitingList:
    """Verified cases, and their family members who need housing, without a bed today; by
    emergency, risk, urgency and then how long they have waited (one case's, if given)."""
    return WaitingList(case=case)
