"""Reads of cases, with their queries decided once: lists never decrypt, never query per row."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case as Switch
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.roles import Role, role_names
from cases.choices import (
    OPEN_STATUSES,
    Force,
    ItemCategory,
    RankGroup,
    Region,
    Status,
    Urgency,
)
from cases.models import (
    BreakGlass,
    Case,
    CaseNote,
    DuplicateDismissal,
    ItemBrought,
    JourneyEvent,
    VerificationCheck,
)
from cases.rules import identity_visible, visible_to
from operations.figures import figures_generation, shared_figure
from protection.blind_indexes import blind_index_filter

LIST_FIELDS = (
    "pk",
    "code",
    "status",
    "contact_month",
    "force",
    "rank_group",
    "region",
    "journey_stage",
    "urgency",
    "risk_level",
    "emergency",
    "version",
)


def with_weapons_flag(cases: QuerySet[Case]) -> QuerySet[Case]:
    weapons = ItemBrought.objects.filter(case=OuterRef("pk"), category=ItemCategory.WEAPON)
    return cases.annotate(has_weapons=Exists(weapons))


@dataclass
class CaseFilters:
    query: str = ""
    status: str = ""
    stage: str = ""
    force: str = ""
    rank_group: str = ""
    region: str = ""
    month: datetime.date | None = None
    has_weapons: bool | None = None


def case_list(*, filters: CaseFilters, user=None) -> QuerySet[Case]:
    """Cases for the list page: only clear fields, weapons flag annotated, one query a page;
    with `user`, whether they may see each case's people (`sees_identity`, cases/rules.py)."""
    cases = with_weapons_flag(Case.objects.only(*LIST_FIELDS))
    if user is not None:
        cases = cases.annotate(sees_identity=identity_visible(user))
    if filters.query:
        text = filters.query.strip()
        # A case code, or a service / national ID number matched through its blind index.
        code_match = Q(code__iexact=text)
        if text.upper().startswith("HV-"):
            code_match |= Q(code__istartswith=text)
        cases = cases.filter(
            code_match
            | blind_index_filter(Case, "service_number", text)
            | blind_index_filter(Case, "national_id", text)
        )
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.stage:
        cases = cases.filter(journey_stage=filters.stage)
    if filters.force:
        cases = cases.filter(force=filters.force)
    if filters.rank_group:
        cases = cases.filter(rank_group=filters.rank_group)
    if filters.region:
        cases = cases.filter(region=filters.region)
    if filters.month:
        cases = cases.filter(contact_month=filters.month.replace(day=1))
    if filters.has_weapons is not None:
        cases = cases.filter(has_weapons=filters.has_weapons)
    return cases.order_by("-contact_month", "-code")


def case_list_count(*, filters: CaseFilters, cases: QuerySet[Case]) -> int:
    """How many cases the list's filters match (`cases`, from case_list). Without a search, the
    count is the same for everyone who may read the list: it is shared (operations.figures) until
    a case changes, keyed by the filters' codes, so fifty people paging through 100,000 cases do
    not each count them all."""
    if filters.query:
        return cases.count()
    key = ":".join(
        str(value)
        for value in (
            filters.status,
            filters.stage,
            filters.force,
            filters.rank_group,
            filters.region,
            filters.month,
            filters.has_weapons,
        )
    )
    return shared_figure(f"case-list:{figures_generation('cases')}:{key}", cases.count)


def case_detail(*, pk: int) -> Case:
    """One case with everything its tabs show, in a fixed number of queries."""
    return (
        Case.objects.select_related("intake_officer", "verifier", "case_manager", "decided_by")
        .prefetch_related(
            "family_members",
            Prefetch("items", queryset=ItemBrought.objects.select_related("recorded_by")),
            Prefetch(
                "checks",
                queryset=VerificationCheck.objects.select_related("checked_by").order_by("item"),
            ),
            "evidence",
            "referrals",
            Prefetch("notes", queryset=CaseNote.objects.select_related("author")),
            Prefetch("journey_events", queryset=JourneyEvent.objects.select_related("by")),
        )
        .get(pk=pk)
    )


def case_summary(*, pk: int) -> Case:
    """One case for its summary tab: who handled it, and how many family members and items it
    has, in one query (the summary shows no more; the other tabs use case_detail)."""
    return (
        Case.objects.select_related("intake_officer", "verifier", "case_manager", "decided_by")
        .annotate(
            family_member_count=Count("family_members", distinct=True),
            item_count=Count("items", distinct=True),
        )
        .get(pk=pk)
    )


# --- duplicates -------------------------------------------------------------------------------


@dataclass
class NotADuplicate:
    """Another case found to be a different person: its code, who decided and when, and why
    (decrypted when read; unreadable once either case was erased)."""

    other: Case
    dismissal: DuplicateDismissal
    # The reason is about both people: only a reader who may see both reads it.
    readable: bool = False

    @property
    def reason(self) -> str:
        return self.dismissal.reason

    @property
    def reason_erased(self) -> bool:
        # Read from the key, so that a reader who may not see the reason decrypts nothing.
        return self.dismissal.data_key.destroyed_at is not None


def not_duplicates_of(case: Case, *, reader) -> list[NotADuplicate]:
    """The cases this one was found not to duplicate, oldest decision first; each reason
    readable only if `reader` may see the people of both cases (cases/rules.py)."""
    of_case = DuplicateDismissal.objects.filter(Q(first_case=case) | Q(second_case=case))
    # Nearly every case has none: asked first in the simplest query (every case page asks),
    # and only then with the cases and people it names.
    if not of_case.exists():
        return []
    dismissals = list(
        of_case.select_related("first_case", "second_case", "dismissed_by", "data_key").order_by(
            "dismissed_at", "pk"
        )
    )
    pairs = [
        (
            dismissal,
            dismissal.second_case if dismissal.first_case_id == case.pk else dismissal.first_case,
        )
        for dismissal in dismissals
    ]
    visible = visible_case_ids(user=reader, pks=[case.pk, *(other.pk for _d, other in pairs)])
    return [
        NotADuplicate(
            other=other,
            dismissal=dismissal,
            readable=case.pk in visible and other.pk in visible,
        )
        for dismissal, other in pairs
    ]


DUPLICATE_INDEXES = {
    "service_number_index": "same service number",
    "national_id_index": "same national ID number",
    "name_and_birth_index": "same name and date of birth",
}


@dataclass
class DuplicatePair:
    first: Case
    second: Case
    reasons: list[str] = field(default_factory=list)


def possible_duplicates() -> list[DuplicatePair]:
    """Pairs of cases sharing a blind index, less those marked as different people."""
    pairs: dict[tuple[int, int], DuplicatePair] = {}
    cases_by_pk: dict[int, Case] = {}
    for index_field, reason in DUPLICATE_INDEXES.items():
        shared = (
            Case.objects.exclude(**{index_field: ""})
            .values(index_field)
            .annotate(count=Count("pk"))
            .filter(count__gt=1)
            .values_list(index_field, flat=True)
        )
        groups: dict[str, list[Case]] = defaultdict(list)
        # The empty value excluded here too, so that PostgreSQL can use the partial index.
        candidates = Case.objects.exclude(**{index_field: ""})
        for case in candidates.filter(**{f"{index_field}__in": shared}).only(
            "pk", "code", "status", "contact_month", index_field
        ):
            case = cases_by_pk.setdefault(case.pk, case)
            groups[getattr(case, index_field)].append(case)
        for members in groups.values():
            members.sort(key=lambda case: case.pk)
            for position, first in enumerate(members):
                for second in members[position + 1 :]:
                    pair = pairs.setdefault((first.pk, second.pk), DuplicatePair(first, second))
                    pair.reasons.append(reason)
    dismissed = set(
        DuplicateDismissal.objects.filter(first_case__in=[key[0] for key in pairs]).values_list(
            "first_case", "second_case"
        )
    )
    return [pair for key, pair in sorted(pairs.items()) if key not in dismissed]


# --- reports ----------------------------------------------------------------------------------


@dataclass
class MonthRow:
    month: datetime.date
    contacts: int = 0
    verified: int = 0


def monthly_counts(*, date_from: datetime.date, date_to: datetime.date) -> list[MonthRow]:
    """Contacts per month of first contact, and verified defections per month of defection
    (or of contact, when the defection date is not known); every month in the range appears.
    Counted on the clear months: the exact dates are encrypted and erasable."""
    contacts = (
        Case.objects.filter(contact_month__range=(date_from.replace(day=1), date_to))
        .annotate(month=F("contact_month"))
        .values("month")
        .annotate(count=Count("pk"))
    )
    verified = (
        Case.objects.filter(status=Status.VERIFIED)
        .annotate(month=Coalesce("defection_month", "contact_month"))
        .filter(month__range=(date_from.replace(day=1), date_to))
        .values("month")
        .annotate(count=Count("pk"))
    )
    rows: dict[datetime.date, MonthRow] = {}
    month = date_from.replace(day=1)
    while month <= date_to:
        rows[month] = MonthRow(month=month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    for entry in contacts:
        rows[_as_date(entry["month"])].contacts = entry["count"]
    for entry in verified:
        key = _as_date(entry["month"])
        if key in rows:
            rows[key].verified = entry["count"]
    return list(rows.values())


def _as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


@dataclass
class BreakdownRow:
    key: str
    label: str
    contacts: int
    verified: int


def breakdowns(
    *, date_from: datetime.date, date_to: datetime.date
) -> dict[str, list[BreakdownRow]]:
    """Contacts and verified cases in the range by force, rank group, region and weapons."""
    cases = with_weapons_flag(
        Case.objects.filter(contact_month__range=(date_from.replace(day=1), date_to))
    )
    verified = Count("pk", filter=Q(status=Status.VERIFIED))
    result: dict[str, list[BreakdownRow]] = {}
    for name, column, labels in (
        ("force", "force", dict(Force.choices)),
        ("rank_group", "rank_group", dict(RankGroup.choices)),
        ("region", "region", dict(Region.choices)),
    ):
        rows = (
            cases.values(column).annotate(contacts=Count("pk"), verified=verified).order_by(column)
        )
        result[name] = [
            BreakdownRow(
                row[column],
                str(labels.get(row[column], row[column])),
                row["contacts"],
                row["verified"],
            )
            for row in rows
        ]
    weapon_rows = cases.values("has_weapons").annotate(contacts=Count("pk"), verified=verified)
    from django.utils.translation import gettext as _

    result["weapons"] = [
        BreakdownRow(
            "yes" if row["has_weapons"] else "no",
            _("With weapons") if row["has_weapons"] else _("Without weapons"),
            row["contacts"],
            row["verified"],
        )
        for row in sorted(weapon_rows, key=lambda row: not row["has_weapons"])
    ]
    return result


def cases_awaiting(*, user) -> QuerySet[Case]:
    """Cases waiting for this user's role to act."""
    condition = Q(pk__in=[])
    if user.has_perm("cases.verify_case"):
        condition |= Q(status=Status.INTAKE) | Q(status=Status.VERIFYING, verifier=user)
    if user.has_perm("cases.decide_case"):
        condition |= (
            Q(status=Status.VERIFYING)
            & ~Q(proposed_decision="")
            & ~Q(intake_officer=user)
            & ~Q(verifier=user)
        )
    return (
        Case.objects.filter(condition).only(*LIST_FIELDS).order_by(F("contact_month").asc(), "code")
    )


def report_case_rows(*, date_from: datetime.date, date_to: datetime.date) -> QuerySet:
    """One row of clear statistics per case first contacted in the range, for the report
    export. Values only: no encrypted column is selected, so nothing can be decrypted."""
    return (
        with_weapons_flag(
            Case.objects.filter(contact_month__range=(date_from.replace(day=1), date_to))
        )
        .order_by("contact_month", "code")
        .values("code", "contact_month", "force", "rank_group", "region", "status", "has_weapons")
    )


def history_of(obj, *, limit: int = 100) -> QuerySet:
    """The newest change-history events of one record (for the admin's history table)."""
    from pghistory.models import Events

    return Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")[:limit]


# --- the dashboard ------------------------------------------------------------------------------

URGENCY_ORDER = Switch(
    When(urgency=Urgency.IMMEDIATE, then=Value(0)),
    When(urgency=Urgency.URGENT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


class Awaiting:
    """Why a case waits for the user (the `awaiting` annotation of `awaiting_action`)."""

    ASSIGN = "assign"
    TAKE = "take"
    VERIFY = "verify"
    DECIDE = "decide"


def awaiting_action(*, user) -> QuerySet[Case]:
    """The cases waiting for this user, each annotated with why (`Awaiting`): a case in intake
    still waiting for its team (a verifier or a case manager), for a case manager to name; a
    case in intake assigned to this verifier; the user's own verification not yet proposed; or
    a proposal the user may decide — never one they took in, verify or recorded a check on.
    Emergencies and the most urgent first, then the oldest contact. Codes only (the dashboard
    names nobody), so whether the user may see each case's people is not worked out."""
    assign = take = verify = decide = Q(pk__in=[])
    if user.has_perm("cases.verify_case"):
        take = Q(status=Status.INTAKE, verifier=user)
        verify = Q(status=Status.VERIFYING, verifier=user, proposed_decision="")
    if user.has_perm("cases.decide_case"):
        assign = Q(status=Status.INTAKE) & (Q(verifier__isnull=True) | Q(case_manager__isnull=True))
        checked_by_user = VerificationCheck.objects.filter(case=OuterRef("pk"), checked_by=user)
        decide = (
            Q(status=Status.VERIFYING)
            & ~Q(proposed_decision="")
            & ~Q(intake_officer=user)
            & ~Q(verifier=user)
            & ~Exists(checked_by_user)
        )
    return (
        Case.objects.filter(assign | take | verify | decide)
        .annotate(
            awaiting=Switch(
                When(assign, then=Value(Awaiting.ASSIGN)),
                When(take, then=Value(Awaiting.TAKE)),
                When(verify, then=Value(Awaiting.VERIFY)),
                default=Value(Awaiting.DECIDE),
                output_field=CharField(),
            ),
            urgency_order=URGENCY_ORDER,
        )
        .only(*LIST_FIELDS)
        .order_by("-emergency", "urgency_order", "contact_month", "code")
    )


def verified_in_month(*, month: datetime.date) -> int:
    """How many cases were verified (decided so) in the month, in the current time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime(month.year, month.month, 1, tzinfo=zone)
    following = (month.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    end = datetime.datetime(following.year, following.month, 1, tzinfo=zone)
    return Case.objects.filter(
        status=Status.VERIFIED, decided_at__gte=start, decided_at__lt=end
    ).count()


def emergency_cases() -> QuerySet[Case]:
    """Open cases flagged as an emergency, the longest-standing flag first."""
    return (
        Case.objects.filter(emergency=True, status__in=OPEN_STATUSES)
        .only(*LIST_FIELDS, "emergency_since")
        .order_by("emergency_since", "code")
    )


# --- need-to-know -------------------------------------------------------------------------------


def visible_case_ids(*, user, pks: list[int]) -> set[int]:
    """Which of these cases' people `user` may see (cases/rules.py), in one query: for a page
    of a list, so that the rule is not worked out for every row an offset skips."""
    return set(
        Case.objects.filter(pk__in=pks).filter(visible_to(user)).values_list("pk", flat=True)
    )


def glass_awaiting_review(*, user) -> QuerySet[BreakGlass]:
    """Break-the-glass uses waiting for this person's review (cases/services/glass.py): every
    one for an administrator, those of their own cases (or of cases with no case manager) for a
    case manager; never their own. The oldest first."""
    if not user.has_perm("cases.review_break_glass"):
        return BreakGlass.objects.none()
    uses = BreakGlass.objects.filter(reviewed_at__isnull=True).exclude(user=user)
    if Role.ADMINISTRATOR not in role_names(user):
        uses = uses.filter(Q(case__case_manager=user) | Q(case__case_manager__isnull=True))
    return uses.select_related("case", "user").order_by("opened_at", "pk")
