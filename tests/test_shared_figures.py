"""Figures over the whole caseload are kept for a minute and shared by everyone who may see them
(operations.figures): what is kept must be numbers, dates and record numbers, never a name, a
case's code or a house's name, and the pages must say the same with and without them."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache

from accounts.roles import Role
from cases.models import Case, ItemBrought
from housing.models import House
from operations import figures
from tests.test_dashboard import build_world

pytestmark = pytest.mark.django_db

PAGES = ("/", "/cases/", "/housing/", "/housing/houses/", "/housing/reports/", "/payments/")


@pytest.fixture
def kept_figures(settings, monkeypatch) -> LocMemCache:
    """The figures kept in a cache of this test's own (the tests' Redis is shared)."""
    cache = LocMemCache("shared-figures-test", {})
    cache.clear()  # caches of one name share their store: start from nothing
    monkeypatch.setattr(figures, "cache", cache)
    settings.HAVEN_FIGURES_CACHE_SECONDS = 60
    return cache


def body(response) -> str:
    assert response.status_code == 200
    html = response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_kept_figures_name_nobody_and_the_pages_read_the_same(
    login, make_staff, kept_figures, settings
):
    staff = {role: make_staff(role) for role in Role.ALL}
    world = build_world(staff, scale=2)
    reader = make_staff(*Role.ALL, is_staff=True)
    client = login(reader)

    settings.HAVEN_FIGURES_CACHE_SECONDS = 0
    fresh = {path: body(client.get(path)) for path in PAGES}
    settings.HAVEN_FIGURES_CACHE_SECONDS = 60
    first = {path: body(client.get(path)) for path in PAGES}
    kept = {path: body(client.get(path)) for path in PAGES}
    assert first == fresh and kept == fresh

    stored = b"".join(kept_figures._cache.values())
    assert stored, "the pages should have kept their figures"
    names = [
        *Case.objects.values_list("code", flat=True),
        *House.objects.values_list("code_name", flat=True),
        *(case.real_name for case in Case.objects.all()),
    ]
    assert names and world
    for name in names:
        assert name.encode() not in stored, f"{name!r} was kept in the shared figures"
    # Nor in the keys: the board's totals by town are kept under a digest of the filters.
    filtered = {path: body(client.get(path + "?town=Mae+Sot")) for path in ("/housing/",)}
    assert "Mae Sot" in House.objects.values_list("town", flat=True) and filtered
    keys = " ".join(kept_figures._cache)
    for name in [*names, *House.objects.values_list("town", flat=True)]:
        assert name not in keys, f"{name!r} names a shared figure"


def test_the_case_lists_shared_count_follows_a_new_case_at_once(
    login, make_staff, kept_figures, django_capture_on_commit_callbacks
):
    from tests.factories import CaseFactory

    CaseFactory.create_batch(3)
    client = login(make_staff(Role.CASE_MANAGER))
    page = body(client.get("/cases/"))
    assert "3 cases" in page, re.findall(r"\d+ cases?", page)
    assert any(b"case-list" in key.encode() for key in kept_figures._cache), "count not kept"
    # Kept: the same count without counting again.
    assert "3 cases" in body(client.get("/cases/"))
    with django_capture_on_commit_callbacks(execute=True):
        CaseFactory()
    assert "4 cases" in body(client.get("/cases/"))
    with django_capture_on_commit_callbacks(execute=True):
        Case.objects.order_by("pk").first().delete()
    assert "3 cases" in body(client.get("/cases/"))
    # The weapons filter reads the items brought: a weapon recorded counts at once too.
    assert "0 cases" in body(client.get("/cases/?weapons=yes"))
    with django_capture_on_commit_callbacks(execute=True):
        ItemBrought.objects.create(
            case=Case.objects.first(),
            category="weapon",
            item_type=ItemBrought._meta.get_field("item_type").choices[0][0],
            count=1,
            recorded_by=make_staff(Role.INTAKE_OFFICER),
        )
    assert "1 case" in body(client.get("/cases/?weapons=yes"))


def test_the_boards_shared_bed_totals_follow_a_new_stay_at_once(
    login, make_staff, kept_figures, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from housing.services import Occupant, allocation_create
    from tests.factories import BedFactory, VerifiedCaseFactory

    beds = BedFactory.create_batch(3)
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    client = login(coordinator)
    assert "0 of 3 beds occupied, 3 free" in body(client.get("/housing/"))
    assert any("board-total" in key for key in kept_figures._cache), "totals not kept"
    assert "0 of 3 beds occupied, 3 free" in body(client.get("/housing/"))
    with django_capture_on_commit_callbacks(execute=True):
        allocation_create(
            actor=coordinator,
            occupant=Occupant(case=VerifiedCaseFactory()),
            bed=beds[0],
            start=timezone.localdate(),
        )
    assert "1 of 3 beds occupied, 2 free" in body(client.get("/housing/"))
    with django_capture_on_commit_callbacks(execute=True):
        BedFactory(room=beds[0].room)
    assert "1 of 4 beds occupied, 3 free" in body(client.get("/housing/"))


def test_the_shared_chart_is_drawn_in_each_readers_language(login, make_staff, kept_figures):
    from tests.factories import CaseFactory

    CaseFactory.create_batch(2)
    english = login(make_staff(Role.CASE_MANAGER, preferred_language="en"))
    burmese = login(make_staff(Role.CASE_MANAGER, preferred_language="my"))
    chart_heading = "The figures as a table"
    assert chart_heading in body(english.get("/"))
    # The chart kept for English readers is not shown to a Burmese reader, nor back.
    in_burmese = body(burmese.get("/"))
    assert chart_heading not in in_burmese and 'id="dashboard-monthly-chart"' in in_burmese
    assert chart_heading in body(english.get("/"))
    assert sum("monthly-chart" in key for key in kept_figures._cache) == 2


def test_each_process_keeps_what_it_read_never_past_the_figures_time(kept_figures, monkeypatch):
    """A worker reads a figure from the shared cache once, then from its own memory, until
    HAVEN_FIGURES_CACHE_SECONDS (60) after the figure was computed, whoever computed it."""
    computed = []
    asked = []
    ask_shared = kept_figures.get_or_set

    def count_asks(*args, **kwargs):
        asked.append(args[0])
        return ask_shared(*args, **kwargs)

    monkeypatch.setattr(kept_figures, "get_or_set", count_asks)

    def compute() -> int:
        computed.append(1)
        return len(computed)

    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert figures.shared_figure("test:waiting", compute) == 1
        clock.shift(30)
        assert figures.shared_figure("test:waiting", compute) == 1
        assert len(asked) == 1, "read again from the shared cache"
        # Another process (this one, having forgotten) reads it 50 s after it was computed...
        clock.shift(20)
        figures.forget_read_figures()
        assert figures.shared_figure("test:waiting", compute) == 1
        assert len(asked) == 2 and computed == [1]
        # ...and keeps it only until 60 s after it was computed, not 60 s after it read it.
        clock.shift(11)
        assert figures.shared_figure("test:waiting", compute) == 2
        assert len(asked) == 3 and computed == [1, 1]


def test_a_figure_kept_here_is_a_fresh_copy_for_each_reader(kept_figures):
    """A page may change what it was given (add the open batches to the closed months' totals):
    the next reader still gets the figure as it was computed."""
    first = figures.shared_figure("test:totals", lambda: [("closed", 1)])
    first.append(("open", 2))
    assert figures.shared_figure("test:totals", lambda: [("never", 0)]) == [("closed", 1)]
