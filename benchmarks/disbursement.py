"""The monthly disbursement run over many stipend plans, against one hand-written statement.

The run (payments.services.disbursement_run) inserts its lines with set-based SQL in committed
chunks, and the database writes each line's creation event in the history (one statement-level
trigger call per chunk). Its floor, the physical limit of writing those lines, is a single
`INSERT … SELECT` of the same lines into a copy of the lines' table made with `LIKE … INCLUDING
ALL` plus the same foreign keys: the same columns, defaults, indexes and checks, and no trigger.
The targets: the run within 1.5× of that statement at 100,000 and at 999,999 plans, with its
memory bounded, and under 10 seconds for 100,000 plans.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime
import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TARGET_RATIO = 1.5
TARGET_SECONDS = 10.0
TARGET_PLANS = 100_000
# The ratio is also a target at the largest size the benchmark fills.
LARGEST_PLANS = 999_999
# Case codes are HV-<year>-<five digits>: 99,999 cases a year, then the year before.
CODES_PER_YEAR = 99_999
NEWEST_CODE_YEAR = 2026
MEBIBYTE = 1024 * 1024

# The monthly amount is the default 1,000 baht; some plans pay 1,500 baht, a few pay kyat.
# One plan in twenty starts during the month, one ends during it, one starts and ends in it:
# their first or last month is pro-rated.
CASES_SQL = """
    INSERT INTO cases_case (
        code, status, version, contact_date, contact_month, channel, region, township, force,
        rank, rank_group, unit_type,
        urgency, risk_level, journey_stage, emergency, real_name, service_number_index,
        national_id_index, name_and_birth_index, proposed_decision, proposal_reason,
        decided_at, decision_reason, status_reason, created_at, updated_at, data_key_id,
        decided_by_id, intake_officer_id
    )
    SELECT
        'HV-' || (%(newest_year)s - (number - 1) / %(per_year)s)::text || '-'
            || lpad((((number - 1) %% %(per_year)s) + 1)::text, 5, '0'),
        'verified', 1, %(ciphertext)s,
        date_trunc('month', %(period)s::date - 30 - number %% 700)::date, 'messaging', 'sagaing',
        NULL, 'army', %(ciphertext)s, 'unknown', '', 'routine', 'medium', 'arrived', false,
        %(ciphertext)s, '', '', '', '', NULL, now(), %(ciphertext)s, NULL, now(), now(),
        %(data_key)s, %(case_manager)s, %(intake_officer)s
    FROM generate_series(1, %(plans)s) AS number
"""

PLANS_SQL = """
    INSERT INTO payments_stipendplan (
        amount, currency, start_date, end_date, status, created_at, updated_at, case_id,
        created_by_id, funding_source_id
    )
    SELECT
        CASE WHEN kyat THEN 150000 WHEN number %% 25 = 4 THEN 1500 ELSE 1000 END,
        CASE WHEN kyat THEN 'MMK' ELSE 'THB' END,
        CASE mix
            WHEN 0 THEN %(period)s::date + (number / 20) %% %(days_in_month)s
            WHEN 1 THEN %(period)s::date - 90 - number %% 30
            WHEN 2 THEN %(period)s::date + (number / 20) %% 10
            WHEN 3 THEN %(period)s::date - 200
            ELSE %(period)s::date - 1 - number %% 400
        END,
        CASE mix
            WHEN 1 THEN %(period)s::date + (number / 20) %% %(days_in_month)s
            WHEN 2 THEN %(period)s::date + (number / 20) %% 10 + 10
            WHEN 3 THEN %(period)s::date + 60
        END,
        'active', now(), now(), person.id, %(finance_officer)s,
        CASE WHEN kyat THEN %(kyat_source)s ELSE %(baht_source)s END
    FROM (
        SELECT id, (row_number() OVER (ORDER BY id))::integer AS number FROM cases_case
    ) AS person
    CROSS JOIN LATERAL (SELECT number %% 20 AS mix, number %% 50 = 7 AS kyat) AS kind
"""

# The trigger-free copy of payments_payment the single statement writes into.
FLOOR_TABLE = "bench_floor_payment"

CREATE_FLOOR_SQL = "CREATE TABLE bench_floor_payment (LIKE payments_payment INCLUDING ALL)"

# LIKE copies columns, defaults, identity, NOT NULL, checks and indexes, but neither foreign
# keys nor triggers: the keys are added as PostgreSQL itself prints them.
FOREIGN_KEYS_SQL = """
    SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
    WHERE conrelid = 'payments_payment'::regclass AND contype = 'f' ORDER BY conname
"""

# What each table carries: (indexes, checks, foreign keys, user triggers).
SHAPE_SQL = """
    SELECT (SELECT count(*) FROM pg_index WHERE indrelid = %(table)s::regclass),
           (SELECT count(*) FROM pg_constraint
            WHERE conrelid = %(table)s::regclass AND contype = 'c'),
           (SELECT count(*) FROM pg_constraint
            WHERE conrelid = %(table)s::regclass AND contype = 'f'),
           (SELECT count(*) FROM pg_trigger
            WHERE tgrelid = %(table)s::regclass AND NOT tgisinternal)
"""

# The statement the run is measured against: every eligible plan's line for the month, its
# amount by the rule documented on StipendPlan (monthly amount × days covered ÷ days in the
# month, rounded half up to the currency's minor unit), written from that rule rather than
# copied from the service so that the two results check each other. It joins the batches the
# run created, so both give each line the same batch.
SINGLE_STATEMENT_SQL = """
    INSERT INTO bench_floor_payment (
        batch_id, plan_id, case_id, period, amount, currency, funding_source_id, status, method,
        reference, acknowledged, carry_forward, payee_method, payee_account
    )
    SELECT batch.id, plan.id, plan.case_id, %(period)s,
           round(
               plan.amount
               * (LEAST(COALESCE(plan.end_date, %(month_end)s), %(month_end)s)
                  - GREATEST(plan.start_date, %(period)s) + 1)
               / %(days_in_month)s,
               CASE plan.currency WHEN 'MMK' THEN 0 ELSE 2 END
           ),
           plan.currency, plan.funding_source_id, 'pending', '', NULL, false, false,
           plan.payout_method, plan.payout_account
    FROM payments_stipendplan AS plan
    JOIN cases_case AS person ON person.id = plan.case_id AND person.status = 'verified'
    JOIN payments_disbursementbatch AS batch
      ON batch.period = %(period)s AND batch.currency = plan.currency AND batch.status = 'draft'
    WHERE plan.status = 'active'
      AND plan.start_date <= %(month_end)s
      AND (plan.end_date IS NULL OR plan.end_date >= %(period)s)
"""

# Django makes every foreign key DEFERRABLE INITIALLY DEFERRED, so a big insert queues one
# foreign-key check per key and row until commit. Each call of a row-level history trigger (the
# cases' history, while the fill writes cases) opens and rolls back a subtransaction, and
# PostgreSQL walks the transaction's whole queue of deferred checks at every such rollback: n
# rows in one transaction cost O(n²). Checking the keys at the end of each statement does the
# same checks and commits the same rows without the quadratic walk: the fill takes seconds.
CHECK_AT_EACH_STATEMENT_SQL = "SET CONSTRAINTS ALL IMMEDIATE"

# The history tables are append-only (triggers refuse DELETE); TRUNCATE empties them.
RESET_SQL = """
    TRUNCATE payments_ledgerentry, payments_payment, payments_paymentevent,
             payments_disbursementbatch, payments_disbursementbatchevent, bench_floor_payment
"""

RUN_LINES_SQL = """
    SELECT currency, count(*), sum(amount) FROM payments_payment
    WHERE period = %(period)s GROUP BY currency ORDER BY currency
"""

SINGLE_LINES_SQL = """
    SELECT currency, count(*), sum(amount) FROM bench_floor_payment
    WHERE period = %(period)s GROUP BY currency ORDER BY currency
"""

# Lines of one that the other lacks, or has in another batch, amount or currency.
MISMATCHED_LINES_SQL = """
    SELECT count(*)
    FROM (SELECT * FROM payments_payment WHERE period = %(period)s) AS run
    FULL JOIN (SELECT * FROM bench_floor_payment WHERE period = %(period)s) AS single
      ON single.plan_id = run.plan_id
    WHERE run.plan_id IS NULL OR single.plan_id IS NULL OR run.batch_id <> single.batch_id
       OR run.amount <> single.amount OR run.currency <> single.currency
"""

# The lines' creation events: how many, of how many lines, and in how many history contexts.
CREATION_EVENTS_SQL = """
    SELECT count(*), count(DISTINCT event.pgh_obj_id), count(DISTINCT event.pgh_context_id),
           count(*) FILTER (WHERE context.metadata ->> 'run' IS NULL)
    FROM payments_paymentevent AS event
    LEFT JOIN pghistory_context AS context ON context.id = event.pgh_context_id
    WHERE event.pgh_label = 'insert' AND event.period = %(period)s
"""


@dataclass
class Month:
    period: datetime.date
    month_end: datetime.date

    @classmethod
    def of(cls, period: datetime.date) -> Month:
        days = calendar.monthrange(period.year, period.month)[1]
        return cls(period=period, month_end=period.replace(day=days))

    @property
    def days(self) -> int:
        return self.month_end.day

    @property
    def parameters(self) -> dict:
        return {"period": self.period, "month_end": self.month_end, "days_in_month": self.days}


@dataclass
class Lines:
    """What a run or the single statement wrote: per currency, the count and the total."""

    by_currency: dict[str, tuple[int, object]]

    @property
    def count(self) -> int:
        return sum(count for count, _ in self.by_currency.values())

    def describe(self) -> str:
        return ", ".join(
            f"{count:,} {currency} lines = {total:,} {currency}"
            for currency, (count, total) in self.by_currency.items()
        )


@dataclass
class Measurement:
    run_seconds: list[float] = field(default_factory=list)
    run_peak_bytes: list[int] = field(default_factory=list)
    run_rss_growth_bytes: list[int] = field(default_factory=list)
    single_seconds: list[float] = field(default_factory=list)
    # CPU seconds of the PostgreSQL backend, when the server runs on this machine.
    run_backend_cpu: list[float] = field(default_factory=list)
    single_backend_cpu: list[float] = field(default_factory=list)
    # Per round: for each kind of statement the run sent, how many and their seconds.
    statements: list[dict[str, tuple[int, float]]] = field(default_factory=list)
    run_lines: Lines | None = None
    single_lines: Lines | None = None
    mismatched_lines: int = 0
    # The run's lines' creation events: (events, lines with one, history contexts, without the
    # run's name in their context).
    creation_events: tuple[int, int, int, int] = (0, 0, 0, 0)
    # (indexes, checks, foreign keys, triggers) of payments_payment and of its copy.
    shapes: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    @property
    def disagreement(self) -> bool:
        """The run and the single statement wrote different lines, or a line of the run has no
        creation event, more than one, or one without the run's context."""
        lines = self.run_lines.count if self.run_lines else 0
        events, lines_with_event, _, without_run = self.creation_events
        return bool(
            self.mismatched_lines
            or self.run_lines is None
            or self.single_lines is None
            or self.run_lines.by_currency != self.single_lines.by_currency
            or events != lines
            or lines_with_event != lines
            or without_run
        )


# --- data ---------------------------------------------------------------------------------


def fill(*, plans: int, month: Month) -> float:
    """Staff, a data key, two funding sources, then `plans` verified cases with one active
    plan each, by set-based SQL. Returns the seconds it took."""
    from django.db import connection, transaction

    from accounts.models import User
    from audit.services import audit_context
    from payments.models import FundingSource
    from protection.keys import create_data_key

    started = time.perf_counter()
    intake_officer = User.objects.create_user(username="bench-intake")
    case_manager = User.objects.create_user(username="bench-case-manager")
    finance_officer = User.objects.create_user(username="bench-finance")
    # Case identities are never decrypted here: one key and a dummy ciphertext naming it.
    data_key = create_data_key(purpose="cases.case")
    baht = FundingSource.objects.create(name="Benchmark donor (baht)", currency="THB")
    kyat = FundingSource.objects.create(name="Benchmark donor (kyat)", currency="MMK")
    with (
        audit_context(actor=None, action="benchmark.fill"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(CHECK_AT_EACH_STATEMENT_SQL)
        cursor.execute(
            CASES_SQL,
            {
                **month.parameters,
                "plans": plans,
                "per_year": CODES_PER_YEAR,
                "newest_year": NEWEST_CODE_YEAR,
                "ciphertext": f"hv1:{data_key.pk}:bench",
                "data_key": data_key.pk,
                "case_manager": case_manager.pk,
                "intake_officer": intake_officer.pk,
            },
        )
        cursor.execute(
            PLANS_SQL,
            {
                **month.parameters,
                "finance_officer": finance_officer.pk,
                "baht_source": baht.pk,
                "kyat_source": kyat.pk,
            },
        )
    create_floor_table()
    with connection.cursor() as cursor:
        # Fresh statistics and visibility map, and the write-out of the fill done now rather
        # than by a checkpoint in the middle of a measurement.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    return time.perf_counter() - started


def create_floor_table() -> None:
    """The trigger-free copy of payments_payment, with the same foreign keys."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CREATE_FLOOR_SQL)
        cursor.execute(FOREIGN_KEYS_SQL)
        for name, definition in cursor.fetchall():
            # Names and definitions as pg_constraint gives them (constraint names are unique
            # per table, so the originals' do).
            cursor.execute(f'ALTER TABLE {FLOOR_TABLE} ADD CONSTRAINT "{name}" {definition}')


def table_shapes() -> dict[str, tuple[int, int, int, int]]:
    """(indexes, checks, foreign keys, triggers) of the lines' table and of its copy."""
    from django.db import connection

    shapes = {}
    with connection.cursor() as cursor:
        for table in ("payments_payment", FLOOR_TABLE):
            cursor.execute(SHAPE_SQL, {"table": table})
            shapes[table] = tuple(cursor.fetchone())
    return shapes


def reset() -> None:
    """Empty the lines, batches and their history, as before the month's first run."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(RESET_SQL)
        cursor.execute("CHECKPOINT")


def lines_written(month: Month, sql: str = RUN_LINES_SQL) -> Lines:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, month.parameters)
        return Lines({currency: (count, total) for currency, count, total in cursor.fetchall()})


# --- measurements -------------------------------------------------------------------------


def _statement_kind(sql: str) -> str:
    """A short name for each statement the run sends, for the breakdown of its time."""
    text = " ".join(sql.split())
    kinds = [
        ("INSERT INTO payments_disbursementbatch", "create the batches"),
        ("plan.id > ", "insert a chunk of lines"),
        ("FROM payments_payment AS carried", "insert carried lines"),
        ("UPDATE payments_disbursementbatch", "refresh batch totals"),
        ('MIN("payments_stipendplan"."id")', "find the plan id range"),
    ]
    return next((name for marker, name in kinds if marker in text), "other")


COMMIT_KIND = "commits (deferred foreign-key checks)"


@contextlib.contextmanager
def statement_timer(into: dict[str, list[float]]) -> Iterator[None]:
    """Time every statement and every commit the code inside sends, by kind (a few dozen: the
    wrappers cost microseconds). Commits count because Django's foreign keys are checked
    there."""
    from django.db import connection

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            into.setdefault(_statement_kind(sql), []).append(time.perf_counter() - started)

    # Django has no hook around COMMIT; shadow the connection's private method for a while.
    commit = connection._commit

    def timed_commit():
        started = time.perf_counter()
        try:
            return commit()
        finally:
            into.setdefault(COMMIT_KIND, []).append(time.perf_counter() - started)

    connection._commit = timed_commit
    try:
        with connection.execute_wrapper(timed):
            yield
    finally:
        del connection._commit


def _backend_cpu_seconds() -> float | None:
    """CPU time the PostgreSQL process serving Django's connection has used, when the server
    runs on this machine (Linux): a figure that other programs busy on the same cores disturb
    far less than wall time. None when it cannot be read."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # utime and stime, the 14th and 15th fields of the line, in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def cpu_timer(into: list[float]) -> Iterator[None]:
    """Append the PostgreSQL backend's CPU seconds spent inside the block, when readable."""
    before = _backend_cpu_seconds()
    yield
    after = _backend_cpu_seconds()
    if before is not None and after is not None:
        into.append(after - before)


def _max_rss_bytes() -> int:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_run(month: Month, chunk_size: int | None, measurement: Measurement) -> None:
    from payments.services import disbursement_run

    statements: dict[str, list[float]] = {}
    rss_before = _max_rss_bytes()
    tracemalloc.start()
    try:
        with statement_timer(statements), cpu_timer(measurement.run_backend_cpu):
            started = time.perf_counter()
            disbursement_run(period=month.period, chunk_size=chunk_size)
            elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    measurement.run_seconds.append(elapsed)
    measurement.run_peak_bytes.append(peak)
    measurement.run_rss_growth_bytes.append(_max_rss_bytes() - rss_before)
    measurement.statements.append(
        {kind: (len(seconds), sum(seconds)) for kind, seconds in statements.items()}
    )


def measure_single_statement(month: Month, measurement: Measurement) -> None:
    """The same lines by one plain statement into the trigger-free copy, in one transaction
    whose commit (where the deferred foreign keys are checked) is timed with it."""
    from django.db import connection, transaction

    with cpu_timer(measurement.single_backend_cpu):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(SINGLE_STATEMENT_SQL, month.parameters)
        measurement.single_seconds.append(time.perf_counter() - started)


def compare(month: Month, measurement: Measurement) -> None:
    from django.db import connection

    measurement.run_lines = lines_written(month, RUN_LINES_SQL)
    measurement.single_lines = lines_written(month, SINGLE_LINES_SQL)
    with connection.cursor() as cursor:
        cursor.execute(MISMATCHED_LINES_SQL, month.parameters)
        measurement.mismatched_lines = cursor.fetchone()[0]
        cursor.execute(CREATION_EVENTS_SQL, month.parameters)
        measurement.creation_events = tuple(cursor.fetchone())


def measure(*, month: Month, chunk_size: int | None, repeat: int, progress=print) -> Measurement:
    """Alternate the run and the single statement `repeat` times on the same plans."""
    from django.db import connection

    measurement = Measurement(shapes=table_shapes())
    for round_number in range(1, repeat + 1):
        reset()
        progress(f"  round {round_number}/{repeat}: the monthly run...")
        measure_run(month, chunk_size, measurement)
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
        progress(f"  round {round_number}/{repeat}: the single INSERT … SELECT (no trigger)...")
        measure_single_statement(month, measurement)
        compare(month, measurement)
        if measurement.disagreement:
            break
    return measurement


def explain(*, month: Month, chunk_size: int) -> str:
    """EXPLAIN ANALYZE of one chunk of the run (the first chunk_size plans) and of the single
    statement, each rolled back: where the time goes, triggers included."""
    from django.db import connection, transaction

    from audit.services import audit_context
    from payments import services

    class RolledBack(Exception):
        pass

    captured: list[tuple[str, dict]] = []

    def capture(execute, sql, params, many, context):
        if _statement_kind(sql) == "insert a chunk of lines" and not captured:
            captured.append((sql, dict(params)))
        return execute(sql, params, many, context)

    reset()
    with connection.execute_wrapper(capture):
        services.disbursement_run(period=month.period, chunk_size=chunk_size)
    # The batches stay for the single statement; the lines go, so the chunk inserts again.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE payments_ledgerentry, payments_payment, payments_paymentevent,"
            " bench_floor_payment"
        )
    chunk_sql, chunk_parameters = captured[0]
    reports = []
    for title, sql, parameters in [
        (f"one chunk of the run ({chunk_size:,} plans)", chunk_sql, chunk_parameters),
        ("the single INSERT … SELECT (no trigger)", SINGLE_STATEMENT_SQL, month.parameters),
    ]:
        with (
            contextlib.suppress(RolledBack),
            audit_context(actor=None, action="benchmark"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            raise RolledBack
        reports.append(f"EXPLAIN ANALYZE of {title}:\n{plan}")
    return "\n\n".join(reports)


# --- report -------------------------------------------------------------------------------


def _seconds(values: list[float]) -> str:
    best = min(values)
    if len(values) == 1:
        return f"{best:.2f} s"
    return f"{best:.2f} s (best of {len(values)}; median {statistics.median(values):.2f} s)"


def _mebibytes(values: list[int]) -> str:
    return f"{max(values) / MEBIBYTE:.1f} MiB"


def _cpu_ratio(measurement: Measurement) -> str:
    run, single = measurement.run_backend_cpu, measurement.single_backend_cpu
    if not run or not single or not min(single):
        return "not measured (the server is not on this machine)"
    return (
        f"{min(run):.2f} s / {min(single):.2f} s = {min(run) / min(single):.2f}× "
        "(less disturbed than wall time by other work on the machine)"
    )


def describe_shapes(shapes: dict[str, tuple[int, int, int, int]]) -> str:
    indexes, checks, keys, triggers = shapes[FLOOR_TABLE]
    original_triggers = shapes["payments_payment"][3]
    return (
        f"{FLOOR_TABLE}: {indexes} indexes, {checks} checks, {keys} foreign keys, "
        f"{triggers} triggers (payments_payment: the same and {original_triggers} triggers)"
    )


def same_constraints(shapes: dict[str, tuple[int, int, int, int]]) -> bool:
    """The copy has the original's indexes, checks and foreign keys, and no trigger."""
    return shapes[FLOOR_TABLE][:3] == shapes["payments_payment"][:3] and not shapes[FLOOR_TABLE][3]


def report(
    *, plans: int, month: Month, chunk_size: int, fill_seconds: float, measurement: Measurement
) -> str:
    run = min(measurement.run_seconds)
    single = min(measurement.single_seconds)
    ratio = run / single
    ratio_note = (
        ""
        if plans in (TARGET_PLANS, LARGEST_PLANS)
        else f" (the target is for {TARGET_PLANS:,} and {LARGEST_PLANS:,} plans)"
    )
    seconds_note = "" if plans == TARGET_PLANS else f" (the target is for {TARGET_PLANS:,} plans)"
    events, lines_with_event, contexts, _ = measurement.creation_events
    rows = [
        ("plans", f"{plans:,} active, month {month.period:%Y-%m}, chunk size {chunk_size:,}"),
        ("setup (fill, vacuum)", f"{fill_seconds:.1f} s"),
        ("lines written by the run", measurement.run_lines.describe()),
        ("lines written by the single", measurement.single_lines.describe()),
        ("run wall time", _seconds(measurement.run_seconds)),
        ("run peak memory (tracemalloc)", _mebibytes(measurement.run_peak_bytes)),
        ("run growth of max RSS", _mebibytes(measurement.run_rss_growth_bytes)),
        (
            "creation events of the run's lines",
            f"{events:,} for {lines_with_event:,} lines, in {contexts:,} history context(s)",
        ),
        ("single INSERT … SELECT", _seconds(measurement.single_seconds)),
        ("  into", describe_shapes(measurement.shapes)),
        ("ratio run / single", f"{ratio:.2f}×"),
        ("PostgreSQL CPU run / single", _cpu_ratio(measurement)),
        (
            f"target: ratio ≤ {TARGET_RATIO:g}×",
            ("met" if ratio <= TARGET_RATIO else "MISSED") + ratio_note,
        ),
        (
            f"target: run < {TARGET_SECONDS:g} s",
            ("met" if run < TARGET_SECONDS else "MISSED") + seconds_note,
        ),
    ]
    width = max(len(label) for label, _ in rows)
    lines = ["Monthly disbursement run", "=" * (width + 40)]
    lines += [f"{label:<{width}}  {value}" for label, value in rows]
    best_round = measurement.run_seconds.index(run)
    statements = measurement.statements[best_round]
    rest = run - sum(seconds for _, seconds in statements.values())
    breakdown = [
        (f"{kind} ({count}×)", seconds)
        for kind, (count, seconds) in sorted(statements.items(), key=lambda item: -item[1][1])
    ] + [("Python, Celery and the rest", rest)]
    breakdown_width = max(len(label) for label, _ in breakdown)
    lines += ["", "Where the run's time went (its fastest round):"]
    lines += [f"  {label:<{breakdown_width}}  {seconds:6.2f} s" for label, seconds in breakdown]
    return "\n".join(lines)


def month_of_today() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate().replace(day=1)
