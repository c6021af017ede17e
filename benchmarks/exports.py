"""The payroll sheet of a 98,000-line batch, built as the background export builds it: time and
peak memory of the build (issue 23: "bounded memory, built streaming"), and of reading the
encrypted file back for the download.

In a throwaway database (`haven_bench_exports`, dropped afterwards): 100,000 verified cases with
an active plan each (benchmarks/disbursement.py's fill), the month's run (98,000 baht lines and
2,000 kyat lines), then the baht batch's payroll sheet through operations.exports.export_build,
in this process, as a worker runs it: lines from a server-side cursor, drawn page by page,
encrypted in 1 MiB chunks into private storage (a temporary folder).

    .venv/bin/python benchmarks/exports.py                 # 98,000 lines
    .venv/bin/python benchmarks/exports.py --plans 10000   # a quick try
"""

from __future__ import annotations

import argparse
import datetime
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import database, disbursement  # noqa: E402

DATABASE_NAME = "haven_bench_exports"
MEBIBYTE = 1024 * 1024


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _build(batch, actor, *, traced: bool) -> tuple[float, int, object]:
    """One build of the batch's payroll sheet; seconds, peak traced bytes (0 if not traced)
    and the finished job."""
    from operations import exports
    from operations.models import ExportJob

    exports.queue_task = lambda name, **arguments: True  # the build runs here, not in a worker
    job = exports.export_start(
        kind="payments.batch_pdf", actor=actor, arguments={"batch": batch.pk}
    )
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        status = exports.export_build(job_id=str(job.pk))
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
    finally:
        if traced:
            tracemalloc.stop()
    job = ExportJob.objects.get(pk=job.pk)
    if status != ExportJob.Status.READY:
        raise SystemExit(f"The build ended {status}: {job.error}")
    return elapsed, peak, job


def run(plans: int, *, traced: bool) -> int:
    from django.conf import settings
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import Role
    from operations import exports
    from payments.models import DisbursementBatch
    from payments.services import disbursement_run

    month = disbursement.Month.of(datetime.date.today().replace(day=1))
    print(f"Filling {plans:,} verified cases with a plan each …", flush=True)
    print(f"  {disbursement.fill(plans=plans, month=month):.1f} s")
    started = time.perf_counter()
    disbursement_run(period=month.period)
    print(f"Monthly run: {time.perf_counter() - started:.1f} s")
    batch = DisbursementBatch.objects.filter(period=month.period).order_by("-line_count").first()
    print(f"Batch {batch.label}: {batch.line_count:,} lines")
    officer = User.objects.get(username="bench-finance")
    officer.groups.add(Group.objects.get(name=Role.FINANCE_OFFICER))
    officer = User.objects.get(pk=officer.pk)

    with tempfile.TemporaryDirectory(prefix="haven-bench-exports-") as folder:
        settings.MEDIA_ROOT = Path(folder)
        rss_before = _max_rss_bytes()
        seconds, _peak, job = _build(batch, officer, traced=False)
        rss_growth = _max_rss_bytes() - rss_before
        encrypted = exports._storage_path(job).stat().st_size
        print(
            f"Payroll sheet, untraced: {seconds:.1f} s, {job.size / MEBIBYTE:.1f} MiB PDF,"
            f" {encrypted / MEBIBYTE:.1f} MiB encrypted, peak RSS growth"
            f" {rss_growth / MEBIBYTE:.1f} MiB"
        )
        if traced:
            traced_seconds, peak, job = _build(batch, officer, traced=True)
            print(
                f"Payroll sheet, traced: {traced_seconds:.1f} s (tracemalloc slows it about"
                f" eightfold), peak Python memory {peak / MEBIBYTE:.1f} MiB"
            )
        started = time.perf_counter()
        download = exports.export_open(job=job, actor=officer)
        size = sum(len(chunk) for chunk in download.chunks)
        print(
            f"Download (decrypting a chunk at a time): {size / MEBIBYTE:.1f} MiB PDF in "
            f"{time.perf_counter() - started:.2f} s"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=100_000, help="plans (100,000: 98,000 THB)")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--traced",
        action="store_true",
        help="build once more under tracemalloc for the peak of Python memory (slow)",
    )
    arguments = parser.parse_args(argv)
    try:
        with database.throwaway_database(DATABASE_NAME, keep=arguments.keep_database) as url:
            database.configure_django(url)
            database.check_redis()
            try:
                return run(arguments.plans, traced=arguments.traced)
            finally:
                database.purge_benchmark_queue()
    except database.BenchmarkSetupError as error:
        print(f"Cannot run the benchmark: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
