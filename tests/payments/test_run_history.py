"""The history of payment lines is written set-based (one statement per chunk of the run), and
still gives every line exactly one creation event naming its run: who started it or which
schedule, the month and the run's id. Later changes of a line are tracked as before, the audit
pages show a line's creation, and the run writes what the benchmark's single statement writes."""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.utils import formats, timezone

from accounts.roles import Role
from audit import selectors as audit_selectors
from benchmarks import disbursement as bench
from payments import services
from payments.models import LedgerEntry, Payment, PaymentStatus
from payments.services.runs import RUN_ACTION
from payments.tasks import run_monthly_disbursement
from tests.factories import FundingSourceFactory, StipendPlanFactory

pytestmark = pytest.mark.django_db

NOVEMBER = datetime.date(2026, 11, 1)
SCHEDULE = "Monthly disbursement run"


@pytest.fixture
def officer(make_staff):
    return make_staff(Role.FINANCE_OFFICER)


def some_plans(count: int = 5) -> list:
    kyat = FundingSourceFactory(name="Kyat fund", currency="MMK")
    plans = StipendPlanFactory.create_batch(count, start_date=datetime.date(2026, 1, 1))
    # A pro-rated month and a kyat plan, in a batch of their own.
    plans.append(StipendPlanFactory(start_date=datetime.date(2026, 11, 16)))
    plans.append(
        StipendPlanFactory(
            start_date=datetime.date(2026, 1, 1),
            funding_source=kyat,
            currency="MMK",
            amount=Decimal("150000"),
        )
    )
    return plans


def creation_events():
    return Payment.pgh_event_model.objects.filter(pgh_label="insert").select_related("pgh_context")


def test_every_line_of_a_run_has_exactly_one_creation_event_naming_the_run(officer):
    some_plans()
    services.disbursement_run(period=NOVEMBER, actor=officer, chunk_size=2)
    lines = set(Payment.objects.values_list("pk", flat=True))
    events = list(creation_events())
    assert len(lines) == 7
    assert Counter(event.pgh_obj_id for event in events) == dict.fromkeys(lines, 1)
    contexts = {event.pgh_context_id for event in events}
    assert len(contexts) == 1, "the chunks of one run share its context"
    metadata = events[0].pgh_context.metadata
    assert metadata == {
        "user": officer.pk,
        "action": RUN_ACTION,
        "period": "2026-11",
        "run": metadata["run"],
    }
    assert len(metadata["run"]) == 32
    # The event is a copy of the line as it was created.
    line = Payment.objects.get(plan__start_date=datetime.date(2026, 11, 16))
    event = next(event for event in events if event.pgh_obj_id == line.pk)
    assert (event.amount, event.batch_id, event.status) == (
        Decimal("500.00"),
        line.batch_id,
        "pending",
    )
    assert event.pgh_created_at is not None


def test_a_second_run_adds_events_only_for_the_lines_it_adds_under_its_own_run(officer):
    some_plans(2)
    services.disbursement_run(period=NOVEMBER, actor=officer)
    services.disbursement_run(period=NOVEMBER, actor=officer)  # nothing new: no event
    assert creation_events().count() == Payment.objects.count() == 4
    late = StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    services.disbursement_run(period=NOVEMBER, actor=officer, run_id="second-run")
    assert creation_events().count() == 5
    late_event = creation_events().get(plan_id=late.pk)
    assert late_event.pgh_context.metadata["run"] == "second-run"
    runs = {event.pgh_context.metadata["run"] for event in creation_events()}
    assert len(runs) == 2


def test_a_scheduled_run_names_its_schedule_and_its_task():
    some_plans(2)
    result = run_monthly_disbursement.apply(
        kwargs={"period": "2026-11"}, headers={"periodic_task_name": SCHEDULE}
    )
    assert result.successful(), result.traceback
    metadata = {
        event.pgh_context.metadata["run"]: event.pgh_context.metadata for event in creation_events()
    }
    assert list(metadata) == [result.id]
    assert metadata[result.id] == {
        "user": None,
        "action": RUN_ACTION,
        "period": "2026-11",
        "run": result.id,
        "schedule": SCHEDULE,
    }


def test_a_later_change_of_a_line_is_still_tracked(officer):
    some_plans(3)
    services.disbursement_run(period=NOVEMBER, actor=officer)
    first, *others = Payment.objects.order_by("pk")
    first.status = PaymentStatus.CANCELLED
    first.save()
    updates = Payment.pgh_event_model.objects.filter(pgh_label="update")
    assert list(updates.values_list("pgh_obj_id", "status")) == [(first.pk, "cancelled")]
    # One statement changing several lines: one event per changed line, none for the unchanged.
    Payment.objects.filter(pk__in=[line.pk for line in others]).update(
        status=PaymentStatus.CANCELLED
    )
    Payment.objects.filter(pk=first.pk).update(status=PaymentStatus.CANCELLED)  # no change
    assert Counter(updates.values_list("pgh_obj_id", flat=True)) == {
        line.pk: 1 for line in [first, *others]
    }


def test_a_deleted_line_leaves_its_history():
    some_plans(1)
    services.disbursement_run(period=NOVEMBER)
    line = Payment.objects.filter(one_off__isnull=True).first()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM payments_payment WHERE id = %s", [line.pk])
    labels = Payment.pgh_event_model.objects.filter(pgh_obj_id=line.pk).values_list(
        "pgh_label", flat=True
    )
    assert sorted(labels) == ["delete", "insert"]


def test_ledger_entries_still_have_no_history():
    tracked = {
        model.pgh_tracked_model
        for model in apps.get_models()
        if getattr(model, "pgh_tracked_model", None) is not None
    }
    assert Payment in tracked
    assert LedgerEntry not in tracked


def test_the_run_and_the_single_statement_write_the_same_lines(officer):
    some_plans(6)
    month = bench.Month.of(NOVEMBER)
    services.disbursement_run(period=NOVEMBER, actor=officer, chunk_size=3)
    bench.create_floor_table()
    shapes = bench.table_shapes()
    assert bench.same_constraints(shapes), shapes
    with connection.cursor() as cursor:
        cursor.execute(bench.SINGLE_STATEMENT_SQL, month.parameters)
        cursor.execute(bench.MISMATCHED_LINES_SQL, month.parameters)
        assert cursor.fetchone()[0] == 0
    run_lines = bench.lines_written(month, bench.RUN_LINES_SQL)
    assert run_lines.count == 8
    assert bench.lines_written(month, bench.SINGLE_LINES_SQL) == run_lines
    # And the comparison notices a difference.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE bench_floor_payment SET amount = amount + 1"
            " WHERE id = (SELECT min(id) FROM bench_floor_payment)"
        )
        cursor.execute(bench.MISMATCHED_LINES_SQL, month.parameters)
        assert cursor.fetchone()[0] == 1


# --- the audit pages ---------------------------------------------------------------------------


def test_the_audit_trail_shows_who_created_a_line_when_and_in_which_run(login, auditor, officer):
    some_plans(2)
    services.disbursement_run(
        period=NOVEMBER, actor=officer, run_id="0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    )
    line, other = Payment.objects.order_by("pk")[:2]
    client = login(auditor)
    page = client.get("/accounts/audit/", {"model": "payments.Payment", "record": str(line.pk)})
    assert page.status_code == 200
    text = page.content.decode()
    # The line by its label (its case's code and month), the other line not at all.
    assert line.case.code in text and other.case.code not in text
    assert "Created" in text and (officer.get_full_name() or officer.username) in text
    assert "Monthly disbursement run, month 2026-11, run 0f1e2d3c" in text
    assert 'title="Run 0f1e2d3c4b5a69788796a5b4c3d2e1f0"' in text
    event = creation_events().get(pgh_obj_id=line.pk)
    assert formats.date_format(
        timezone.localtime(event.pgh_created_at), "SHORT_DATETIME_FORMAT"
    ) in (text)


def test_a_scheduled_run_shows_as_the_system_and_its_schedule(login, auditor):
    some_plans(1)
    run_monthly_disbursement.apply(
        kwargs={"period": "2026-11"}, headers={"periodic_task_name": SCHEDULE}
    )
    line = Payment.objects.first()
    page = login(auditor).get("/accounts/audit/", {"model": "payments.Payment", "record": line.pk})
    text = page.content.decode()
    assert "system" in text
    assert f"started by the schedule “{SCHEDULE}”" in text


@pytest.mark.parametrize("record", ["²", "1e3", "-1", "9" * 40, "1 OR 1=1", "\x00"])
def test_a_nonsense_record_number_is_ignored(login, auditor, officer, record):
    some_plans(1)
    services.disbursement_run(period=NOVEMBER, actor=officer)
    page = login(auditor).get("/accounts/audit/", {"model": "payments.Payment", "record": record})
    assert page.status_code == 200
    # Ignored: every line of the type is listed (by its case's code).
    for line in Payment.objects.select_related("case"):
        assert line.case.code in page.content.decode()


def test_the_history_of_a_record_type_that_is_no_more_is_empty_not_an_error():
    filters = audit_selectors.HistoryFilters(model="gone.Model", record=1)
    assert audit_selectors.history_page(filters=filters).events == []
