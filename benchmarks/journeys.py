"""The sweep of missed check-ins (journeys.services.escalation_sweep) over many journeys in
progress: 10,000 journeys with 100,000 check-ins and as many windows, filled by set-based SQL in
a throwaway database. The issue's targets: under 200 ms a sweep, and a query count that does
not grow with the number of journeys (measured at a tenth of the journeys, then at all of them).

    .venv/bin/python benchmarks/journeys.py                    # as `make bench` runs it
    .venv/bin/python benchmarks/journeys.py --journeys 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import database  # noqa: E402

DATABASE_NAME = "haven_bench_journeys"
TARGET_MS = 200
WINDOWS_PER_JOURNEY = 10
# One journey in a hundred has gone silent: its latest window is past its grace period.
SILENT_EVERY = 100

CASES_SQL = """
    INSERT INTO cases_case (
        code, status, version, contact_date, contact_month, channel, region, township, force,
        rank, rank_group, unit_type,
        urgency, risk_level, journey_stage, emergency, real_name, service_number_index,
        national_id_index, name_and_birth_index, proposed_decision, proposal_reason,
        decision_reason, status_reason, created_at, updated_at, data_key_id, intake_officer_id,
        case_manager_id
    )
    SELECT
        'HV-' || (2026 - (number - 1) / 99999)::text || '-'
            || lpad((((number - 1) %% 99999) + 1)::text, 5, '0'),
        'intake', 1, %(ciphertext)s, date_trunc('month', current_date - 30)::date, 'messaging',
        'sagaing', NULL, 'army', %(ciphertext)s, 'unknown', '',
        'routine', 'medium', 'in_transit', false, %(ciphertext)s, '', '', '', '', NULL, NULL, NULL,
        now(), now(), %(data_key)s, %(backup)s, %(lead)s
    FROM generate_series(%(first)s, %(last)s) AS number
"""

JOURNEYS_SQL = """
    INSERT INTO journeys_journey (
        case_id, status, planned_by_id, lead_handler_id, backup_handler_id, planned_departure,
        planned_arrival, primary_channel, fallback_channel, all_clear_hash, duress_hash,
        grace_minutes, every_hours, created_at, data_key_id
    )
    SELECT c.id, 'active', %(coordinator)s, %(lead)s, %(backup)s, %(ciphertext)s,
        %(ciphertext)s, %(ciphertext)s, %(ciphertext)s, 'bench$all', 'bench$duress', 30, 1,
        %(now)s - interval '12 hours', %(data_key)s
    FROM cases_case c
    WHERE NOT EXISTS (SELECT 1 FROM journeys_journey j WHERE j.case_id = c.id)
"""

# Ten hourly windows per journey, the last one due an hour from now, all but the last checked
# in; a silent journey has missed the window due an hour ago (its grace ended 30 minutes ago)
# and the one due now.
WINDOWS_SQL = """
    INSERT INTO journeys_checkinwindow (journey_id, due_at, grace_ends_at, checked_in_at)
    SELECT j.id,
        %(now)s - make_interval(hours => 8 - w),
        %(now)s - make_interval(hours => 8 - w) + interval '30 minutes',
        CASE WHEN w = 9 OR (w >= 7 AND j.id %% %(silent)s = 0) THEN NULL
             ELSE %(now)s - make_interval(hours => 8 - w) END
    FROM journeys_journey j
    CROSS JOIN generate_series(0, %(windows)s - 1) AS w
    WHERE NOT EXISTS (SELECT 1 FROM journeys_checkinwindow x WHERE x.journey_id = j.id)
"""

# One check-in per window checked in, and one more a journey whose word matched nothing: about
# ten a journey.
CHECK_INS_SQL = """
    INSERT INTO journeys_checkin (
        journey_id, at, channel, result, coarse_location, late, recorded_by_id, recorded_at,
        data_key_id
    )
    SELECT w.journey_id, w.checked_in_at, 'signal', 'all_clear', 'Mae Sot', false, %(lead)s,
        now(), %(data_key)s
    FROM journeys_checkinwindow w
    WHERE w.checked_in_at IS NOT NULL
      AND w.journey_id BETWEEN %(first_journey)s AND %(last_journey)s
    UNION ALL
    SELECT j.id, %(now)s - interval '90 minutes', 'phone', 'no_match', '', false, %(lead)s,
        now(), %(data_key)s
    FROM journeys_journey j
    WHERE j.id BETWEEN %(first_journey)s AND %(last_journey)s
"""


def progress(message: str) -> None:
    print(message, flush=True)


def fill(*, first: int, last: int, staff: dict, now: datetime.datetime) -> float:
    """Cases first..last with a journey each, its windows and check-ins (about ten a journey,
    history triggers included). Returns the seconds it took."""
    from django.db import connection, transaction

    from audit.services import audit_context

    started = time.perf_counter()
    parameters = {
        **staff,
        "first": first,
        "last": last,
        "now": now,
        "windows": WINDOWS_PER_JOURNEY,
        "silent": SILENT_EVERY,
    }
    with (
        audit_context(actor=None, action="benchmark.fill"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT coalesce(max(id), 0) FROM journeys_journey")
        parameters["first_journey"] = cursor.fetchone()[0] + 1
        for statement in (CASES_SQL, JOURNEYS_SQL, WINDOWS_SQL):
            cursor.execute(statement, parameters)
        cursor.execute("SELECT coalesce(max(id), 0) FROM journeys_journey")
        parameters["last_journey"] = cursor.fetchone()[0]
        cursor.execute(CHECK_INS_SQL, parameters)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    return time.perf_counter() - started


def staff_and_key() -> dict:
    from accounts.models import User
    from protection.keys import create_data_key

    data_key = create_data_key(purpose="journeys.journey")
    return {
        "coordinator": User.objects.create_user(username="bench-coordinator").pk,
        "lead": User.objects.create_user(username="bench-lead").pk,
        "backup": User.objects.create_user(username="bench-backup").pk,
        "data_key": data_key.pk,
        # Never decrypted here: a dummy ciphertext naming the key.
        "ciphertext": f"hv1:{data_key.pk}:bench",
    }


def measure(*, rounds: int, now: datetime.datetime) -> tuple[float, float, int, int, int]:
    """The first sweep (which escalates the silent journeys and writes their alerts), then
    `rounds` steady sweeps: their median in ms and their query count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from journeys.services import escalation_sweep

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as first_queries:
        created = escalation_sweep(now=now)
    first_ms = (time.perf_counter() - started) * 1000
    timings = []
    steady_queries = 0
    for _round in range(rounds):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            escalation_sweep(now=now)
        timings.append((time.perf_counter() - started) * 1000)
        steady_queries = len(queries)
    return first_ms, statistics.median(timings), len(created), len(first_queries), steady_queries


def measure_pages(staff: dict, *, rounds: int) -> list[tuple[str, float, int]]:
    """The board's first page (as the view reads it) and the reports of the last 24 months,
    over every journey filled: median of `rounds` runs and the query count."""

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from accounts.roles import Role
    from journeys import selectors
    from journeys.views.board import BOARD_LIMIT

    coordinator = User.objects.get(pk=staff["coordinator"])
    coordinator.groups.add(Group.objects.get(name=Role.JOURNEY_COORDINATOR))
    coordinator = User.objects.get(pk=coordinator.pk)  # no cached permissions
    today = timezone.localdate()
    start = (today.replace(day=1) - datetime.timedelta(days=700)).replace(day=1)
    readers = {
        f"board, first {BOARD_LIMIT} journeys": lambda: list(
            selectors.journey_board(coordinator)[:BOARD_LIMIT]
        ),
        "reports, last 24 months": lambda: selectors.journey_report(date_from=start, date_to=today),
        "dashboard, due soon and debriefs": lambda: (
            selectors.due_soon(coordinator).count(),
            list(selectors.due_soon(coordinator)[:5]),
            selectors.debriefs_to_record(coordinator).count(),
        ),
    }
    results = []
    for label, read in readers.items():
        timings = []
        for _round in range(rounds):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                read()
            timings.append((time.perf_counter() - started) * 1000)
        results.append((label, statistics.median(timings), len(queries)))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=10_000, help="journeys (10,000)")
    parser.add_argument("--rounds", type=int, default=9, help="steady sweeps measured (9)")
    parser.add_argument(
        "--database",
        type=database.bench_database_name,
        default=DATABASE_NAME,
        help=f"the throwaway database's name ({DATABASE_NAME})",
    )
    arguments = parser.parse_args(argv)
    total = max(arguments.journeys, 10)
    try:
        with database.throwaway_database(arguments.database) as url:
            try:
                progress(f"Creating and migrating the throwaway database {arguments.database}...")
                database.configure_django(url)
                database.check_redis()
                return _run(total, arguments.rounds)
            finally:
                database.purge_benchmark_queue()
    except database.BenchmarkSetupError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1


def _run(total: int, rounds: int) -> int:
    from django.db import connection
    from django.utils import timezone

    from journeys.models import CheckIn

    staff = staff_and_key()
    rows = []
    filled = 0
    for size in (total // 10, total):
        now = timezone.now()
        progress(f"Filling up to {size:,} journeys in progress...")
        seconds = fill(first=filled + 1, last=size, staff=staff, now=now)
        filled = size
        progress(f"  done in {seconds:.1f} s.")
        first_ms, median_ms, escalated, first_queries, steady_queries = measure(
            rounds=rounds, now=now
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM journeys_journey WHERE status = 'active'")
            journeys = cursor.fetchone()[0]
        rows.append(
            (
                journeys,
                CheckIn.objects.count(),
                first_ms,
                escalated,
                first_queries,
                median_ms,
                steady_queries,
            )
        )
    print()
    print("journeys  check-ins  first sweep (new steps, queries)  steady sweep  queries")
    for journeys, check_ins, first_ms, escalated, first_queries, median_ms, queries in rows:
        flag = "" if median_ms < TARGET_MS else f"  OVER {TARGET_MS} ms"
        print(
            f"{journeys:>8,}  {check_ins:>9,}  {first_ms:>8.1f} ms ({escalated:>4} steps, "
            f"{first_queries:>5} queries)  {median_ms:>9.1f} ms  {queries:>7}{flag}"
        )
    same = rows[0][-1] == rows[-1][-1]
    print()
    for label, median_ms, queries in measure_pages(staff, rounds=rounds):
        print(f"{label:<44} {median_ms:>9.1f} ms  {queries:>3} queries")
    print()
    print(
        f"Target: a sweep under {TARGET_MS} ms over {total:,} journeys, and a query count "
        f"independent of their number: {'met' if same else 'NOT met'} for the query count."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
