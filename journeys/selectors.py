"""Reads of journeys, with what each person may see applied once: coordinators see every
journey, handlers the ones they handle."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import ExtractMonth, ExtractYear, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cases import selectors as case_selectors
from cases.choices import Channel as CaseChannel
from cases.choices import Region
from cases.models import Case
from cases.rules import member_condition
from journeys.models import (
    Channel,
    CheckIn,
    CheckInWindow,
    ClosedReason,
    ContingencyKind,
    Debrief,
    Escalation,
    Journey,
    JourneyStatus,
    Problem,
    Step,
)

# "Due soon" on the dashboards: a check-in due within this many hours (or already overdue).
DUE_SOON_HOURS = 12


def visible_journeys(user: User) -> QuerySet[Journey]:
    """Every journey for a coordinator; for a handler, those they handle while they are on the
    case's team (a handler taken off it sees the journey no more)."""
    journeys = Journey.objects.all()
    if user.has_perm("journeys.watch_journeys"):
        return journeys
    if not user.has_perm("journeys.handle_journey"):
        return journeys.none()
    return journeys.filter(Q(lead_handler=user) | Q(backup_handler=user)).filter(
        member_condition(user, prefix="case__")
    )


def journey_list(user: User, *, status: str = JourneyStatus.ACTIVE) -> QuerySet[Journey]:
    """Journeys with their case code, handlers, next window and open escalations, oldest
    overdue first."""
    now = timezone.now()
    waiting = Q(
        windows__checked_in_at__isnull=True,
        windows__stopped_at__isnull=True,
    )
    return (
        visible_journeys(user)
        .filter(status=status)
        .select_related("case", "lead_handler", "backup_handler")
        .annotate(
            next_due=Min("windows__due_at", filter=waiting),
            overdue=Count("windows", filter=waiting & Q(windows__grace_ends_at__lt=now)),
            open_escalations=Count(
                "escalations", filter=Q(escalations__closed_at__isnull=True), distinct=True
            ),
        )
        .order_by("next_due", "pk")
    )


def journey_detail(user: User, pk: int) -> Journey:
    return (
        visible_journeys(user)
        .select_related("case", "lead_handler", "backup_handler", "planned_by", "data_key")
        .get(pk=pk)
    )


def journey_windows(journey: Journey, *, limit: int = 12) -> list[CheckInWindow]:
    """The windows around now: the missed ones still waiting, then the next ones."""
    now = timezone.now()
    missed = list(
        journey.windows.filter(
            checked_in_at__isnull=True, stopped_at__isnull=True, grace_ends_at__lt=now
        ).order_by("due_at")[:limit]
    )
    upcoming = list(journey.windows.filter(grace_ends_at__gte=now).order_by("due_at")[:limit])
    return missed + upcoming


def journey_escalations(journey: Journey) -> QuerySet[Escalation]:
    return journey.escalations.select_related("window").order_by("-at", "step")


def incident_of(journey: Journey, escalation_pk: int) -> Escalation:
    return (
        journey.escalations.select_related("window")
        .prefetch_related("acknowledgements__by", "acknowledgements__contingency_step")
        .get(pk=escalation_pk, step=Step.CONTINGENCY)
    )


def possible_handlers(case: Case) -> QuerySet[User]:
    """The case's team members who may handle a journey (as journeys' service checks them)."""
    on_team = Q(pk__in=[case.intake_officer_id, case.verifier_id, case.case_manager_id]) | Q(
        case_teams__case=case
    )
    return (
        User.objects.with_perm(
            "journeys.handle_journey", backend="django.contrib.auth.backends.ModelBackend"
        )
        .filter(on_team, is_active=True)
        .distinct()
        .order_by("username")
    )


def journey_board(
    user: User, *, coordinator_id: int | None = None, handler_id: int | None = None
) -> QuerySet[Journey]:
    """Every journey in progress the user may see, with its next check-in due (the oldest one
    still waiting, so an overdue one shows how long it is overdue), the highest open escalation
    step: escalated first, then overdue, then by the next check-in. One query, whatever the
    number of journeys; each journey's figures are index look-ups of its own rows (a join of
    every window with every escalation would multiply them)."""
    first_waiting = CheckInWindow.objects.filter(
        journey=OuterRef("pk"), checked_in_at__isnull=True, stopped_at__isnull=True
    ).order_by("due_at")
    open_step = Escalation.objects.filter(journey=OuterRef("pk"), closed_at__isnull=True).order_by(
        "-step"
    )
    journeys = visible_journeys(user).filter(status=JourneyStatus.ACTIVE)
    if coordinator_id is not None:
        journeys = journeys.filter(planned_by_id=coordinator_id)
    if handler_id is not None:
        journeys = journeys.filter(Q(lead_handler_id=handler_id) | Q(backup_handler_id=handler_id))
    return (
        journeys.select_related("case", "lead_handler", "backup_handler", "planned_by")
        .annotate(
            # The grace period is the journey's, so the first window due is the first to end.
            next_due=Subquery(first_waiting.values("due_at")[:1]),
            next_grace_ends=Subquery(first_waiting.values("grace_ends_at")[:1]),
            escalation_step=Subquery(open_step.values("step")[:1]),
        )
        .order_by(
            F("escalation_step").desc(nulls_last=True),
            F("next_due").asc(nulls_last=True),
            "pk",
        )
    )


def board_people(user: User) -> tuple[QuerySet[User], QuerySet[User]]:
    """The coordinators who planned, and the handlers of, the journeys in progress the user
    may see: the board's filters."""
    journeys = visible_journeys(user).filter(status=JourneyStatus.ACTIVE)
    coordinators = User.objects.filter(pk__in=journeys.values("planned_by_id"))
    handlers = User.objects.filter(
        Q(pk__in=journeys.values("lead_handler_id"))
        | Q(pk__in=journeys.values("backup_handler_id"))
    )
    return coordinators.order_by("username"), handlers.order_by("username")


def _mine(user: User) -> Q:
    return Q(planned_by=user) | Q(lead_handler=user) | Q(backup_handler=user)


def due_soon(user: User, *, hours: int = DUE_SOON_HOURS) -> QuerySet[Journey]:
    """The user's own journeys in progress (planned or handled by them) whose next check-in is
    overdue or due within `hours`, the soonest first: the coordinators' and handlers'
    dashboards."""
    waiting = Q(windows__checked_in_at__isnull=True, windows__stopped_at__isnull=True)
    horizon = timezone.now() + datetime.timedelta(hours=hours)
    # Only the journeys with a window still waiting that is due before the horizon (the
    # partial index on waiting windows' due times finds them), then their next window.
    due = CheckInWindow.objects.filter(
        checked_in_at__isnull=True, stopped_at__isnull=True, due_at__lte=horizon
    ).values("journey_id")
    return (
        visible_journeys(user)
        .filter(_mine(user), status=JourneyStatus.ACTIVE, pk__in=due)
        .select_related("case")
        .annotate(
            next_due=Min("windows__due_at", filter=waiting),
            next_grace_ends=Min("windows__grace_ends_at", filter=waiting),
        )
        .order_by("next_due", "pk")
    )


def debriefs_to_record(user: User) -> QuerySet[Journey]:
    """The user's own journeys that arrived without a debrief, while one can still be written
    (before minimisation)."""
    return (
        visible_journeys(user)
        .filter(_mine(user), status=JourneyStatus.ARRIVED, minimised_at__isnull=True)
        .exclude(Exists(Debrief.objects.filter(journey=OuterRef("pk"))))
        .select_related("case")
        .order_by("ended_at", "pk")
    )


# Reports. Every figure is counted in SQL over codes and times that stay after minimisation and
# erasure (case region and channel of first contact, journey times, escalation steps, check-in
# channels, the debrief's categories): never a name, a place or a note.


class Median(Aggregate):
    function = "percentile_cont"
    name = "Median"
    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _months_to_arrival() -> ExpressionWrapper:
    """Whole months from the month of the case's first contact to the month of the journey's
    arrival (local time). Months, not days: the exact date of first contact is encrypted under
    the case's key (a quasi-identifier); its month stays in clear for statistics, so the figure
    survives erasure."""
    arrival = ExtractYear("ended_at") * 12 + ExtractMonth("ended_at")
    contact = ExtractYear("case__contact_month") * 12 + ExtractMonth("case__contact_month")
    return ExpressionWrapper(arrival - contact, output_field=IntegerField())


@dataclass
class JourneyMonthRow:
    month: datetime.date
    contacts: int = 0
    started: int = 0
    arrived: int = 0
    missed: int = 0
    lost_contact: int = 0


@dataclass
class ArrivalTimes:
    count: int
    median_months: float | None
    average_months: float | None
    shortest_months: int | None
    longest_months: int | None


@dataclass
class BreakdownRow:
    code: str
    label: str
    journeys: int
    arrived: int
    missed: int
    lost_contact: int
    median_months: float | None


@dataclass
class OutcomeRow:
    step: int
    step_label: str
    outcome: str
    outcome_label: str
    windows: int


@dataclass
class CountRow:
    code: str
    label: str
    count: int


@dataclass
class JourneyReport:
    months: list[JourneyMonthRow]
    arrival: ArrivalTimes
    by_region: list[BreakdownRow]
    by_channel: list[BreakdownRow]
    outcomes: list[OutcomeRow]
    check_in_channels: list[CountRow]
    channels_worked: list[CountRow]
    channels_failed: list[CountRow]
    problems: list[CountRow]
    contingency_used: list[CountRow]
    debriefs: int


def _month_key(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def _per_month(queryset: QuerySet, field_name: str) -> dict[datetime.date, int]:
    rows = (
        queryset.annotate(month=TruncMonth(field_name))
        .values("month")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {_month_key(row["month"]): row["count"] for row in rows}


def _in_range(field_name: str, date_from: datetime.date, date_to: datetime.date) -> Q:
    """From the start of `date_from` to the end of `date_to`, local time, as bounds an index
    can use (a `__date` lookup would convert every row first)."""
    start = timezone.make_aware(datetime.datetime.combine(date_from, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min)
    )
    return Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})


def _breakdown(
    cohort: QuerySet[Journey], field_name: str, labels: dict[str, str]
) -> list[BreakdownRow]:
    """Journeys, arrivals and median months to arrival per value of `field_name` (a field of
    the case), and the missed check-ins and lost contact of the same journeys: two grouped
    queries."""
    rows = (
        cohort.annotate(months=_months_to_arrival())
        .values(field_name)
        .annotate(
            journeys=Count("pk"),
            arrived=Count("pk", filter=Q(status=JourneyStatus.ARRIVED)),
            median_months=Median("months", filter=Q(status=JourneyStatus.ARRIVED)),
        )
        .order_by(field_name)
    )
    steps = {
        (row[f"journey__{field_name}"], row["step"]): row["count"]
        for row in Escalation.objects.filter(
            journey__in=cohort, step__in=(Step.LEAD, Step.CONTINGENCY)
        )
        .values(f"journey__{field_name}", "step")
        .annotate(count=Count("pk"))
        .order_by()
    }
    return [
        BreakdownRow(
            code=row[field_name],
            label=labels.get(row[field_name], row[field_name]),
            journeys=row["journeys"],
            arrived=row["arrived"],
            missed=steps.get((row[field_name], Step.LEAD), 0),
            lost_contact=steps.get((row[field_name], Step.CONTINGENCY), 0),
            median_months=row["median_months"],
        )
        for row in rows
    ]


def journey_report(*, date_from: datetime.date, date_to: datetime.date) -> JourneyReport:
    """The journey statistics of the months from `date_from` to `date_to` (inclusive dates).
    Monthly figures count events in their month; the breakdowns follow the journeys planned in
    the range; arrival times the journeys that arrived in it. A fixed number of queries."""
    months: dict[datetime.date, JourneyMonthRow] = {
        row.month: JourneyMonthRow(month=row.month, contacts=row.contacts)
        for row in case_selectors.monthly_counts(date_from=date_from, date_to=date_to)
    }
    journeys = Journey.objects.all()
    figures = {
        "started": _per_month(
            journeys.filter(_in_range("created_at", date_from, date_to)), "created_at"
        ),
        "arrived": _per_month(
            journeys.filter(
                _in_range("ended_at", date_from, date_to), status=JourneyStatus.ARRIVED
            ),
            "ended_at",
        ),
        "missed": _per_month(
            Escalation.objects.filter(_in_range("at", date_from, date_to), step=Step.LEAD), "at"
        ),
        "lost_contact": _per_month(
            Escalation.objects.filter(_in_range("at", date_from, date_to), step=Step.CONTINGENCY),
            "at",
        ),
    }
    for name, counts in figures.items():
        for month, count in counts.items():
            if month in months:
                setattr(months[month], name, count)

    arrived = journeys.filter(
        _in_range("ended_at", date_from, date_to), status=JourneyStatus.ARRIVED
    ).annotate(months=_months_to_arrival())
    times = arrived.aggregate(
        count=Count("pk"),
        median_months=Median("months"),
        average_months=Avg("months"),
        shortest_months=Min("months"),
        longest_months=Max("months"),
    )

    cohort = journeys.filter(_in_range("created_at", date_from, date_to))
    region_labels = {str(code): str(label) for code, label in Region.choices}
    channel_labels = {str(code): str(label) for code, label in CaseChannel.choices}

    missed_windows = Escalation.objects.filter(
        _in_range("at", date_from, date_to), step=Step.LEAD
    ).annotate(
        highest=Subquery(
            Escalation.objects.filter(window=OuterRef("window"))
            .order_by("-step")
            .values("step")[:1]
        )
    )
    outcome_labels = {
        "": str(_("Still open")),
        **{str(code): str(label) for code, label in ClosedReason.choices},
    }
    step_labels = {int(code): str(label) for code, label in Step.choices}
    outcomes = [
        OutcomeRow(
            step=row["highest"],
            step_label=step_labels.get(row["highest"], str(row["highest"])),
            outcome=row["closed_reason"],
            outcome_label=outcome_labels.get(row["closed_reason"], row["closed_reason"]),
            windows=row["windows"],
        )
        for row in missed_windows.values("highest", "closed_reason")
        .annotate(windows=Count("pk"))
        .order_by("highest", "closed_reason")
    ]

    check_in_channel_labels = dict(Channel.choices)
    check_ins = [
        CountRow(
            code=row["channel"],
            label=str(check_in_channel_labels.get(row["channel"], row["channel"])),
            count=row["count"],
        )
        for row in CheckIn.objects.filter(_in_range("at", date_from, date_to))
        .values("channel")
        .annotate(count=Count("pk"))
        .order_by("-count", "channel")
    ]

    debriefs = Debrief.objects.filter(
        _in_range("journey__ended_at", date_from, date_to),
        journey__status=JourneyStatus.ARRIVED,
    )
    arrays = {
        "problems": Problem,
        "contingency_used": ContingencyKind,
        "channels_worked": Channel,
        "channels_failed": Channel,
    }
    aggregates = {"debriefs": Count("pk")}
    for field_name, choices in arrays.items():
        for code in choices.values:
            aggregates[f"{field_name}__{code}"] = Count(
                "pk", filter=Q(**{f"{field_name}__contains": [code]})
            )
    debrief_counts = debriefs.aggregate(**aggregates)

    def counted(field_name: str) -> list[CountRow]:
        return [
            CountRow(code=code, label=str(label), count=debrief_counts[f"{field_name}__{code}"])
            for code, label in arrays[field_name].choices
            if debrief_counts[f"{field_name}__{code}"]
        ]

    return JourneyReport(
        months=list(months.values()),
        arrival=ArrivalTimes(**times),
        by_region=_breakdown(cohort, "case__region", region_labels),
        by_channel=_breakdown(cohort, "case__channel", channel_labels),
        outcomes=outcomes,
        check_in_channels=check_ins,
        channels_worked=counted("channels_worked"),
        channels_failed=counted("channels_failed"),
        problems=counted("problems"),
        contingency_used=counted("contingency_used"),
        debriefs=debrief_counts["debriefs"],
    )
