"""Pages that do not grow with the caseload: every list and dashboard a member of staff can open
asks PostgreSQL no more questions with eight times as much data than with a little (issue 22).
The pages come from the URL resolver, so a list added later is checked too."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone

from accounts.roles import Role
from cases.models import Case
from housing.models import Allocation
from payments.models import DisbursementBatch
from tests.factories import BedFactory, FamilyMemberFactory, HouseFactory, VerifiedCaseFactory
from tests.test_dashboard import build_world
from tests.url_walker import walk

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
# Pages of one object, with an object whose lists grow (a house's stays, a batch's lines).
OBJECT_PAGES = ("housing:house_detail", "payments:batch_detail")


def list_pages() -> list[str]:
    """Every page without an id in its address (lists, dashboards, reports), the admin's and
    the few pages that are not lists (forms, log-in) aside."""
    skipped = ("/admin/", "/accounts/login/", "/accounts/logout/", "/accounts/2fa/", "/i18n/")
    return [
        walked.url
        for walked in walk()
        if not walked.url.startswith(skipped)
        and not resolve(walked.url.split("?")[0]).kwargs
        and not walked.url.endswith((".csv", "/new/", "/run/", "/allocate/"))
    ]


def grow(staff, *, scale: int, house) -> None:
    """`scale` times: build_world's rows, plus past stays in `house` and people waiting with
    their families."""
    build_world(staff, scale=scale)
    coordinator = staff[Role.HOUSING_COORDINATOR]
    bed = BedFactory(room__house=house)
    start = timezone.now() - 400 * DAY
    for number in range(scale):
        case = VerifiedCaseFactory(risk_level=("low", "high", "critical")[number % 3])
        FamilyMemberFactory(case=case)
        Allocation.objects.create(
            bed=bed,
            case=case,
            stay=DateTimeTZRange(start + number * 10 * DAY, start + (number * 10 + 5) * DAY),
            checked_in_by=coordinator,
            checked_out_by=coordinator,
            checked_out_at=start + (number * 10 + 5) * DAY,
        )


def page_queries(client, path: str) -> tuple[int, int]:
    """The answer's status and the fewest queries of two requests (a session refreshed now
    and then costs a query that has nothing to do with the data)."""
    counts = []
    for _request in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        counts.append(len(queries))
    return response.status_code, min(counts)


def test_every_list_and_dashboard_asks_as_many_queries_at_two_sizes(login, make_staff):
    staff = {role: make_staff(role) for role in Role.ALL}
    everyone = make_staff(*Role.ALL, is_staff=True)
    client = login(everyone)
    client.get("/")  # the session settles on the first page
    house = HouseFactory()
    grow(staff, scale=1, house=house)
    batch = DisbursementBatch.objects.get()
    paths = [*list_pages(), f"/housing/houses/{house.pk}/", f"/payments/batches/{batch.pk}/"]
    for path in paths:
        client.get(path)  # caches that fill once (choices, permissions) fill here
    small = {path: page_queries(client, path) for path in paths}
    opened = [path for path, (status, _count) in small.items() if status == 200]
    assert len(opened) > 20, "the walk should open most lists"

    grow(staff, scale=8, house=house)
    large = {path: page_queries(client, path) for path in opened}
    # Never more queries with more data. (The audit trail asks one query per kind of record on
    # its page, so its count follows the mix of the newest fifty events, not their number.)
    grew = {
        path: (small[path][1], large[path][1])
        for path in opened
        if large[path][0] != small[path][0] or large[path][1] > small[path][1]
    }
    assert not grew, f"pages whose query count grew with the data (small, large): {grew}"


def test_the_audit_trail_asks_as_many_queries_at_two_sizes(login, auditor, make_staff):
    """Its pages (the newest, an older one, filtered by person, case, action and record type)
    cost as many queries with eight times as many events of the same kinds."""
    staff = {role: make_staff(role) for role in Role.ALL}
    client = login(auditor)
    client.get("/accounts/audit/")
    house = HouseFactory()
    grow(staff, scale=1, house=house)

    def counts() -> dict[str, tuple[int, int]]:
        case = Case.objects.order_by("pk").first()
        manager = staff[Role.CASE_MANAGER].username
        first = client.get("/accounts/audit/", {"model": "cases.Case"}).content.decode()
        paths = {
            "newest": "/accounts/audit/?model=cases.Case",
            "filtered": f"/accounts/audit/?model=cases.Case&action=insert&case={case.code}"
            f"&who={manager}&start=2020-01-01",
        }
        if 'rel="next" href="?' in first:
            older = first.split('rel="next" href="?')[1].split('"')[0].replace("&amp;", "&")
            paths["older"] = f"/accounts/audit/?{older}"
        return {name: page_queries(client, path) for name, path in paths.items()}

    small = counts()
    grow(staff, scale=8, house=house)
    large = counts()
    assert "older" in large
    assert {name: large[name] for name in small} == small
