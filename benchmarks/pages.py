"""Page speed on the demo organisation: each main page, as the role that uses it, rendered
through Django's full request path (middleware, templates, queries). Prints the median time and
the number of SQL queries per page, and flags any page over the 300 ms target.

    .venv/bin/python benchmarks/pages.py            # as `make bench` runs it
    .venv/bin/python benchmarks/pages.py --rounds 9
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.database import throwaway_database  # noqa: E402

TARGET_MS = 300


def pages(case_pk: int, house_pk: int, batch_pk: int) -> list[tuple[str, str]]:
    return [
        ("casemanager", "/"),
        ("intake", "/"),
        ("casemanager", "/cases/"),
        ("casemanager", f"/cases/{case_pk}/"),
        ("casemanager", f"/cases/{case_pk}/identity/"),
        ("casemanager", f"/cases/{case_pk}/history/"),
        ("casemanager", f"/cases/{case_pk}/team/"),
        ("casemanager", "/cases/break-glass/"),
        ("casemanager", "/cases/reports/"),
        ("casemanager", "/cases/duplicates/"),
        ("housing", "/housing/"),
        ("housing", "/housing/waiting/"),
        ("housing", f"/housing/houses/{house_pk}/"),
        ("housing", "/housing/reports/"),
        ("finance", "/payments/"),
        ("finance", f"/payments/batches/{batch_pk}/"),
        ("approver", "/payments/dashboard/"),
        ("approver", "/payments/ledger/"),
        ("auditor", "/accounts/audit/"),
        ("auditor", "/accounts/audit/access/"),
        ("admin", "/accounts/staff/"),
        ("admin", "/accounts/reveal-budgets/"),
    ]


def load_demo_organisation(url: str) -> None:
    """Set Django up here with the demo settings on the database at `url`, migrate it and load
    the demo organisation into it (load_demo runs only under the demo settings)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.demo"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("load_demo", stdout=io.StringIO())
    print(f"demo organisation loaded in {time.perf_counter() - started:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="renders per page (5)")
    arguments = parser.parse_args(argv)
    with throwaway_database("haven_bench_pages") as url:
        load_demo_organisation(url)
        from django.db import connection, connections
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from cases.models import Case
        from housing.models import House
        from payments.models import DisbursementBatch

        case = Case.objects.filter(status="verified").order_by("pk").first()
        house = House.objects.order_by("pk").first()
        batch = DisbursementBatch.objects.filter(status="closed").order_by("-period").first()
        clients: dict[str, Client] = {}
        slow = 0
        print(f"{'page':<34} {'as':<12} {'status':>6} {'median ms':>10} {'queries':>8}")
        for username, path in pages(case.pk, house.pk, batch.pk):
            client = clients.get(username)
            if client is None:
                client = clients[username] = Client(HTTP_HOST="127.0.0.1")
                client.post(
                    "/accounts/login/", {"username": username, "password": "haven-demo-2026"}
                )
            client.get(path)  # warm caches and templates
            timings = []
            for _round in range(arguments.rounds):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
            median = statistics.median(timings)
            flag = "  over target" if median > TARGET_MS else ""
            slow += median > TARGET_MS or response.status_code != 200
            print(
                f"{path:<34} {username:<12} {response.status_code:>6} {median:>10.1f} "
                f"{len(queries):>8}{flag}"
            )
        connections.close_all()
    verdict = "met" if not slow else f"missed on {slow} pages"
    print(f"target: every page answers 200 in under {TARGET_MS} ms: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
