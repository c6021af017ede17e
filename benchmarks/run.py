"""Entry point of `make bench`: Haven's performance benchmarks, each in a throwaway database.

This one: the monthly disbursement run over 100,000 stipend plans, against a single
hand-written INSERT … SELECT writing the same lines into a trigger-free copy of their table. It
reports its figures and exits 0 whether or not the targets are met (benchmarks inform, they do
not fail the build); it exits 1 only when the run and the single statement disagree or the run's
history is wrong, which are bugs, or when it cannot run at all.

    .venv/bin/python benchmarks/run.py                  # 100,000 plans, as `make bench`
    .venv/bin/python benchmarks/run.py --plans 5000     # a quick try
    .venv/bin/python benchmarks/run.py --repeat 3 --explain
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "haven_bench"


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def database_name(text: str) -> str:
    from benchmarks.database import bench_database_name

    return bench_database_name(text)


def month(text: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError as error:
        raise argparse.ArgumentTypeError("give the month as YYYY-MM") from error


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--plans", type=positive, default=100_000, help="active stipend plans (100,000)"
    )
    parser.add_argument(
        "--repeat", type=positive, default=1, help="rounds of run and single statement (1)"
    )
    parser.add_argument(
        "--chunk-size",
        type=positive,
        default=None,
        help="plans per chunk of the run (default: HAVEN_DISBURSEMENT_CHUNK_SIZE)",
    )
    parser.add_argument(
        "--period", type=month, default=None, help="the month paid, YYYY-MM (this month)"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also print EXPLAIN ANALYZE of one chunk of the run and of the single statement",
    )
    parser.add_argument(
        "--database",
        type=database_name,
        default=DATABASE_NAME,
        help=f"the throwaway database's name ({DATABASE_NAME}); another haven_bench… name lets "
        "two runs share a server",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help=f"leave the {DATABASE_NAME} database in place afterwards, for inspection",
    )
    arguments = parser.parse_args(argv)
    if arguments.plans > 999_999:
        parser.error("--plans: at most 999,999 (case codes run out of years)")
    return arguments


def progress(message: str) -> None:
    print(message, flush=True)


def benchmark_disbursement(arguments: argparse.Namespace) -> int:
    from django.conf import settings

    from benchmarks import disbursement

    period = arguments.period or disbursement.month_of_today()
    chunk_size = arguments.chunk_size or settings.HAVEN_DISBURSEMENT_CHUNK_SIZE
    month = disbursement.Month.of(period)
    progress(f"Filling {arguments.plans:,} verified cases with an active stipend plan each...")
    fill_seconds = disbursement.fill(plans=arguments.plans, month=month)
    progress(f"  done in {fill_seconds:.1f} s.")
    progress("Measuring:")
    measurement = disbursement.measure(
        month=month, chunk_size=chunk_size, repeat=arguments.repeat, progress=progress
    )
    print()
    print(
        disbursement.report(
            plans=arguments.plans,
            month=month,
            chunk_size=chunk_size,
            fill_seconds=fill_seconds,
            measurement=measurement,
        )
    )
    if not disbursement.same_constraints(measurement.shapes):
        print(
            "\nBUG: the single statement's table is not a trigger-free copy of the lines' table: "
            + disbursement.describe_shapes(measurement.shapes),
            file=sys.stderr,
        )
        return 1
    if measurement.disagreement:
        run_lines, single_lines = measurement.run_lines, measurement.single_lines
        events, lines_with_event, _, without_run = measurement.creation_events
        print(
            "\nBUG: the monthly run and the single statement disagree, or the run's history is "
            f"wrong: run wrote {run_lines.describe()}; the single statement wrote "
            f"{single_lines.describe()}; {measurement.mismatched_lines:,} plan(s) differ in "
            f"presence, batch, amount or currency; {events:,} creation events for "
            f"{lines_with_event:,} lines, {without_run:,} without the run's context.",
            file=sys.stderr,
        )
        return 1
    if arguments.explain:
        print()
        print(disbursement.explain(month=month, chunk_size=chunk_size))
    return 0


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    arguments = parse_arguments(argv)
    from benchmarks import database

    try:
        with database.throwaway_database(arguments.database, keep=arguments.keep_database) as url:
            try:
                progress(f"Creating and migrating the throwaway database {arguments.database}...")
                database.configure_django(url)
                database.check_redis()
                return benchmark_disbursement(arguments)
            finally:
                database.purge_benchmark_queue()
    except database.BenchmarkSetupError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
