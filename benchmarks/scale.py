"""Every staff page at scale: the demo organisation plus 100,000 cases, their families, stays,
plans and twelve months of closed batches (about a million payment lines and their history),
timed as each role that may see it. Prints a table (page, role, median time, queries, size)
and flags any page over the 300 ms target.

The pages come from the URL resolver (like the anonymous walk of tests/test_urls.py), so a page
added later is timed without a list to keep up to date; each is asked for as every demo member
of staff, and timed for those it answers 200. Pages that only take a POST, and the per-batch
exports (built in the background), answer something else and are left out.

    .venv/bin/python benchmarks/scale.py                   # as `make bench` runs it
    .venv/bin/python benchmarks/scale.py --reuse           # keep haven_bench_scale for next time
    .venv/bin/python benchmarks/scale.py --reuse --only waiting --explain
    .venv/bin/python benchmarks/scale.py --cases 10000 --rounds 1
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import database  # noqa: E402

DATABASE_NAME = "haven_bench_scale"
TARGET_MS = 300
# Pages not timed: the per-batch exports (files of every line, built by a background task) and
# views that act on a GET only to show a confirmation of an action, which a walk must not take.
SKIPPED_NAMES = {
    "payments:batch_pdf",
    "payments:batch_csv",
    "payments:batch_xlsx",
    "cases:reveal",
    "cases:family_reveal",
    "cases:evidence_download",
    "housing:house_reveal",
    "accounts:logout",
    "accounts:otp_enrol",
    "accounts:otp_verify",
    "accounts:login",
    "accounts:setup_password",
    "set_language",
    "healthz",
}
MARKER_TABLE = "bench_scale_fill"


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=positive, default=100_000, help="cases filled (100,000)")
    parser.add_argument("--rounds", type=positive, default=3, help="timed renders a page (3)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help=f"use the {DATABASE_NAME} an earlier --reuse run left (filling it if missing or of "
        "another size) and keep it afterwards",
    )
    parser.add_argument(
        "--keep", action="store_true", help=f"keep {DATABASE_NAME} afterwards, for inspection"
    )
    parser.add_argument(
        "--database",
        type=database.bench_database_name,
        default=DATABASE_NAME,
        help=f"the throwaway database's name ({DATABASE_NAME}); another haven_bench_… name lets "
        "two runs share a server",
    )
    parser.add_argument(
        "--only", default="", help="time only pages whose path or name contains this text"
    )
    parser.add_argument("--admin", action="store_true", help="also time the Django admin's pages")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN ANALYZE of the slowest query of each page over the target",
    )
    return parser.parse_args(argv)


def progress(message: str) -> None:
    print(message, flush=True)


# --- database ----------------------------------------------------------------------------------


def _filled_cases(url: str, name: str) -> int | None:
    """How many cases the scale fill wrote into the kept database, or None if there is none."""
    import psycopg

    try:
        with psycopg.connect(database._with_database(url, name), connect_timeout=5) as c:
            row = c.execute(f"SELECT cases FROM {MARKER_TABLE}").fetchone()  # noqa: S608
    except psycopg.Error:
        return None
    return row[0] if row else None


def _set_up_django(url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.demo"
    os.environ["DATABASE_URL"] = url
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = database.CELERY_QUEUE
    # Migrations added since the fill (indexes) are applied to a reused database too.
    migrate = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=os.environ,
        check=False,
    )
    if migrate.returncode != 0:
        raise database.BenchmarkSetupError("migrating the benchmark database failed (see above).")
    import django

    django.setup()


def _fill(cases: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from benchmarks import scale_fill

    started = time.perf_counter()
    call_command("load_demo", stdout=io.StringIO())
    progress(f"  demo organisation loaded in {time.perf_counter() - started:.1f} s")
    progress(f"Filling {cases:,} cases with families, stays, plans and {scale_fill.MONTHS} months")
    started = time.perf_counter()
    scale_fill.fill(cases=cases, progress=progress)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {MARKER_TABLE} (cases integer)")
        cursor.execute(f"INSERT INTO {MARKER_TABLE} VALUES (%s)", [cases])  # noqa: S608
    progress(f"  filled in {time.perf_counter() - started:.0f} s")


# --- pages -------------------------------------------------------------------------------------


def _samples() -> dict[str, int]:
    """One object of each kind the pages take, from the fill where it has them (the biggest)."""
    from django.db.models import Count

    from accounts.models import StaffRequest
    from cases.models import Case
    from cases.models.erasure import ErasureRequest
    from housing.models import Allocation, House
    from journeys.models import Journey
    from payments.models import DisbursementBatch, OneOffPayment, Payment, StipendPlan

    stay = (
        Allocation.objects.filter(case__code__startswith="HV-19", checked_out_at__isnull=True)
        .order_by("pk")
        .first()
    )
    case = stay.case if stay else Case.objects.order_by("pk").first()
    member = case.family_members.order_by("pk").first()
    house = (
        House.objects.annotate(stays=Count("rooms__beds__allocations"))
        .order_by("-stays", "pk")
        .first()
    )
    batch = (
        DisbursementBatch.objects.filter(status="closed").order_by("-line_count", "-period").first()
    )
    samples = {
        "case": case.pk,
        "member": member.pk if member else 0,
        "stay": stay.pk if stay else 0,
        "house": house.pk,
        "room": house.rooms.order_by("pk").first().pk,
        "bed": house.rooms.order_by("pk").first().beds.order_by("pk").first().pk,
        "batch": batch.pk if batch else 0,
        "line": Payment.objects.filter(batch=batch).order_by("pk").values_list("pk", flat=True)[0]
        if batch
        else 0,
        "plan": StipendPlan.objects.filter(case=case).values_list("pk", flat=True).first() or 0,
        "one_off": OneOffPayment.objects.order_by("pk").values_list("pk", flat=True).first() or 0,
        "journey": Journey.objects.order_by("pk").values_list("pk", flat=True).first() or 0,
        "erasure": ErasureRequest.objects.order_by("pk").values_list("pk", flat=True).first() or 0,
        "staff_request": StaffRequest.objects.order_by("pk").values_list("pk", flat=True).first()
        or 0,
    }
    return samples


def _object_for(name: str, argument: str, samples: dict[str, int]) -> int:
    namespace, _, view = name.partition(":")
    if argument == "member_pk":
        return samples["member"]
    if argument == "request_pk":
        return samples["erasure"]
    if namespace == "cases" or view in ("case_history", "household_move", "case_plans"):
        return samples["case"]
    if namespace == "housing":
        if view in ("check_out", "transfer", "undo"):
            return samples["stay"]
        if view == "bed_create":
            return samples["room"]
        if view == "bed_set_active":
            return samples["bed"]
        return samples["house"]
    if namespace == "payments":
        if view.startswith("plan_"):
            return samples["plan"]
        if view.startswith("one_off"):
            return samples["one_off"]
        if view == "carry_forward":
            return samples["line"]
        return samples["batch"]
    if name == "journeys:plan":
        return samples["case"]
    if namespace == "journeys":
        return samples["journey"]
    if namespace == "accounts" and view == "staff_request":
        return samples["staff_request"]
    return 0


def staff_pages(*, only: str, admin: bool) -> list[tuple[str, str]]:
    """(name, path) of every page the resolver knows, with real objects in place of ids."""
    from django.urls import resolve, reverse

    from tests.url_walker import walk

    samples = _samples()
    pages = []
    for walked in walk():
        if walked.name in SKIPPED_NAMES or (walked.url.startswith("/admin/") and not admin):
            continue
        if walked.url.startswith("/admin/") and resolve(walked.url).kwargs:
            continue
        match = resolve(walked.url.split("?")[0])
        if any(not isinstance(value, int) for value in match.kwargs.values()):
            continue  # an export job's page (a uuid): one person's file, not a page to time
        if match.kwargs:
            kwargs = {key: _object_for(walked.name, key, samples) for key in match.kwargs}
            path = reverse(walked.name, kwargs=kwargs)
        else:
            path = walked.url
        if only and only not in path and only not in walked.name:
            continue
        pages.append((walked.name, path))
    return pages


def explain_slowest(queries: list[dict]) -> str:
    from django.db import DatabaseError, connection

    # pghistory prefixes each query of a request with the setting of its history context;
    # only reads are explained (a COMMIT or an UPDATE of the session may be the slowest).
    readings = [
        (float(query["time"]), re.sub(r"^SELECT set_config\('pghistory[^;]*; ", "", query["sql"]))
        for query in queries
    ]
    readings = [
        (seconds, sql) for seconds, sql in readings if sql.lstrip().startswith(("SELECT", "WITH"))
    ]
    if not readings:
        return "no read among the queries to explain"
    seconds, sql = max(readings)
    try:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
    except DatabaseError as error:
        return f"could not explain the slowest query ({error})"
    return f"slowest query ({seconds * 1000:.0f} ms):\n{sql}\n{plan}"


def time_pages(arguments: argparse.Namespace) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.demo import DEMO_STAFF
    from accounts.models import User

    # Refusals (403, 405) and log-ins are logged as they would be in production: noise here.
    logging.disable(logging.WARNING)
    users = {user.username: user for user in User.objects.filter(username__in=DEMO_STAFF)}
    clients = {}
    for username in DEMO_STAFF:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(users[username])
        clients[username] = client
    rows, over = [], 0
    # CPU ms: this process's CPU time for the request (Django's own work, whatever else the
    # machine runs); median ms is the wall time, PostgreSQL's work and any waiting included.
    progress(f"load average before: {os.getloadavg()[0]:.1f}")
    header = f"{'page':<44} {'as':<13} {'median ms':>9} {'CPU ms':>7} {'queries':>8} {'KiB':>7}"
    progress(header)
    for _name, path in staff_pages(only=arguments.only, admin=arguments.admin):
        for username, client in clients.items():
            first = client.get(path)
            if first.status_code != 200:
                continue
            timings, cpu, sizes = [], [], []
            for _round in range(arguments.rounds):
                with CaptureQueriesContext(connection) as queries:
                    started, started_cpu = time.perf_counter(), time.process_time()
                    response = client.get(path)
                    body = b"".join(response) if response.streaming else response.content
                    timings.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
                sizes.append(len(body))
            median = statistics.median(timings)
            flag = "  over target" if median > TARGET_MS else ""
            over += median > TARGET_MS
            line = (
                f"{path:<44} {username:<13} {median:>9.1f} {statistics.median(cpu):>7.1f} "
                f"{len(queries):>8} "
                f"{statistics.median(sizes) / 1024:>7.1f}{flag}"
            )
            rows.append(line)
            progress(line)
            if flag and arguments.explain:
                progress(explain_slowest(queries.captured_queries))
    progress(f"load average after: {os.getloadavg()[0]:.1f}")
    verdict = "met" if not over else f"missed on {over} of {len(rows)} page/role pairs"
    progress(f"target: every page under {TARGET_MS} ms for one request: {verdict}")
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        server = database._server_url()
        name = arguments.database
        filled = _filled_cases(server, name) if arguments.reuse else None
        if filled == arguments.cases:
            progress(f"Reusing {name} ({filled:,} cases)")
            url = database._with_database(server, name)
            _set_up_django(url)
            try:
                return time_pages(arguments)
            finally:
                database._close_django_connections()
                database.purge_benchmark_queue()
        keep = arguments.keep or arguments.reuse
        with database.throwaway_database(name, keep=keep) as url:
            try:
                progress(f"Creating and migrating the throwaway database {name}...")
                _set_up_django(url)
                _fill(arguments.cases)
                return time_pages(arguments)
            finally:
                database.purge_benchmark_queue()
    except database.BenchmarkSetupError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
