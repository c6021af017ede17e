"""Payout day: bulk recording (every line of the batch at once, ticks kept across pages, a
search by case code), a double submit recorded once and reported as success, the provider's
settlement file (preview, confirm, unknown references refused, never a line twice), closing
with its summary and the carry-forward, what changed since last month for the approver, the
names and wallets of the officer paying out (and of nobody else, nor after closing), and the
verified cases without a plan. Bad input changes nothing and never answers 500."""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from array import array
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import budgets
from accounts.roles import Role
from accounts.services import reveal_within_budget
from audit.models import AccessLog
from notifications.models import Notification
from operations.models import ExportJob
from payments import exports, selectors, services
from payments.exports import common
from payments.models import BatchStatus, DisbursementBatch, LedgerEntry, Payment
from payments.services import PaymentError
from payments.views.payouts import LINE_PAGE_SIZE
from tests import exporting
from tests.factories import FundingSourceFactory, StipendPlanFactory, VerifiedCaseFactory

pytestmark = pytest.mark.django_db

THIS_MONTH = timezone.localdate().replace(day=1)
NAME = "Thant Zin Oo"
WALLET = "+66812345678"


@pytest.fixture
def officer(make_staff):
    return make_staff(Role.FINANCE_OFFICER)


@pytest.fixture
def other_officer(make_staff):
    return make_staff(Role.FINANCE_OFFICER)


@pytest.fixture
def approver(make_staff):
    return make_staff(Role.FINANCE_APPROVER)


def approved_batch(officer, approver, count: int, currency: str = "THB") -> DisbursementBatch:
    source = FundingSourceFactory(currency=currency)
    amount = "1000.00" if currency == "THB" else "150000"
    StipendPlanFactory.create_batch(count, funding_source=source, currency=currency, amount=amount)
    batches = services.disbursement_run(period=THIS_MONTH, actor=officer)
    (batch,) = [batch for batch in batches if batch.currency == currency]
    return services.batch_approve(batch=batch, actor=approver)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def statuses(batch) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Payment.objects.filter(batch=batch).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def ledger_entries_per_line(batch) -> set[int]:
    """How many ledger entries each recorded line has: 2 for a line recorded once."""
    counts: dict[int, int] = {}
    for payment in (
        LedgerEntry.objects.filter(batch=batch, payment__isnull=False)
        .exclude(memo="batch approved")
        .values_list("payment_id", flat=True)
    ):
        counts[payment] = counts.get(payment, 0) + 1
    return set(counts.values())


# --- bulk recording -----------------------------------------------------------------------------


def test_select_all_across_pages_records_every_line_once(login, officer, approver):
    batch = approved_batch(officer, approver, LINE_PAGE_SIZE + 30)
    client = login(officer)
    url = reverse("payments:record", args=[batch.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert f"All {LINE_PAGE_SIZE + 30} pending lines of the batch" in page.content.decode()
    response = client.post(
        url,
        {
            "all_lines": "1",
            "outcome": "paid",
            "method": "bank_transfer",
            "reference": "KBANK-1",
            "token": str(uuid.uuid4()),
            "action": "record",
        },
    )
    assert response.status_code == 302
    assert statuses(batch) == {"paid": LINE_PAGE_SIZE + 30}
    assert ledger_entries_per_line(batch) == {2}
    batch.refresh_from_db()
    assert (batch.status, batch.payout_officer) == (BatchStatus.DISBURSING, officer)


def test_ticks_are_kept_across_pages_and_search_narrows_by_code(login, officer, approver):
    batch = approved_batch(officer, approver, LINE_PAGE_SIZE + 5)
    client = login(officer)
    url = reverse("payments:record", args=[batch.pk])
    first_page = list(selectors.pending_lines(batch=batch)[:LINE_PAGE_SIZE])
    second_page = list(selectors.pending_lines(batch=batch)[LINE_PAGE_SIZE:])
    # Tick two lines on page 1, go to page 2 (the ticks are kept), tick one there.
    response = client.post(
        url,
        {
            "shown": [line.pk for line in first_page],
            "lines": [first_page[0].pk, first_page[1].pk],
            "goto": "2",
        },
    )
    assert response.status_code == 302 and "page=2" in response["Location"]
    page = client.get(response["Location"])
    assert page.context["selected_count"] == 2
    # A search by case code keeps the ticks too.
    code = second_page[0].case.code
    response = client.post(
        url,
        {
            "shown": [line.pk for line in second_page],
            "lines": [second_page[0].pk],
            "q": code.lower(),
            "action": "search",
        },
    )
    page = client.get(response["Location"])
    assert [line.case.code for line in page.context["page"].object_list] == [code]
    assert page.context["selected_count"] == 3
    response = client.post(
        url,
        {
            "shown": [second_page[0].pk],
            "lines": [second_page[0].pk],
            "q": code,
            "outcome": "failed",
            "token": str(uuid.uuid4()),
            "action": "record",
        },
    )
    assert response.status_code == 302
    failed = set(Payment.objects.filter(batch=batch, status="failed").values_list("pk", flat=True))
    assert failed == {first_page[0].pk, first_page[1].pk, second_page[0].pk}
    assert statuses(batch)["pending"] == LINE_PAGE_SIZE + 2


def test_the_record_page_keeps_its_queries_flat(login, officer, approver, make_staff):
    small = approved_batch(officer, approver, 3)
    client = login(officer)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("payments:record", args=[small.pk])).status_code == 200
    big = approved_batch(officer, approver, 60, currency="MMK")
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("payments:record", args=[big.pk])).status_code == 200
    assert len(many) == len(few)


def test_a_double_submit_records_once_and_says_success_both_times(login, officer, approver):
    batch = approved_batch(officer, approver, 3)
    client = login(officer)
    url = reverse("payments:record", args=[batch.pk])
    lines = list(Payment.objects.filter(batch=batch).order_by("pk"))
    data = {
        "lines": [line.pk for line in lines[:2]],
        "shown": [line.pk for line in lines],
        "outcome": "paid",
        "method": "mobile_money",
        "reference": "WAVE-1",
        "token": str(uuid.uuid4()),
        "action": "record",
    }
    first = client.post(url, data, follow=True)
    second = client.post(url, data, follow=True)
    for response in (first, second):
        assert response.status_code == 200
        assert "2 lines recorded as paid." in messages_of(response)
        assert not any("already" in message for message in messages_of(response))
    assert statuses(batch) == {"paid": 2, "pending": 1}
    assert ledger_entries_per_line(batch) == {2}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_submission_raced_records_once(make_staff):
    from tests.racing import race

    officer, approver = make_staff(Role.FINANCE_OFFICER), make_staff(Role.FINANCE_APPROVER)
    batch = approved_batch(officer, approver, 4)
    lines = list(Payment.objects.filter(batch=batch))
    token = uuid.uuid4()

    def submit():
        return services.payments_record(
            payments=lines,
            batch=batch,
            actor=officer,
            outcome="unclaimed",
            token=token,
        )

    results, errors = race([submit] * 5)
    assert errors == []
    assert all(len(result) == 4 for result in results)
    assert statuses(batch) == {"unclaimed": 4}
    assert ledger_entries_per_line(batch) == {2}


def test_a_line_recorded_by_another_submission_is_still_refused(officer, approver):
    batch = approved_batch(officer, approver, 1)
    lines = list(Payment.objects.filter(batch=batch))
    services.payments_record(payments=lines, actor=officer, outcome="failed", token=uuid.uuid4())
    with pytest.raises(PaymentError, match="already failed"):
        services.payments_record(
            payments=lines, actor=officer, outcome="failed", token=uuid.uuid4()
        )


def test_the_approver_cannot_take_the_batch_for_payout(make_staff, officer):
    both = make_staff(Role.FINANCE_OFFICER, Role.FINANCE_APPROVER)
    batch = approved_batch(officer, both, 1)
    with pytest.raises(PaymentError, match="approver"):
        services.batch_take_for_payout(batch=batch, actor=both)
    with pytest.raises(PaymentError, match="approver"):
        services.payments_record(
            payments=list(Payment.objects.filter(batch=batch)), actor=both, outcome="failed"
        )
    batch.refresh_from_db()
    assert (batch.status, batch.payout_officer) == (BatchStatus.APPROVED, None)


@pytest.mark.parametrize(
    "data",
    [
        {"lines": ["abc"], "outcome": "paid"},
        {"lines": ["1"], "outcome": "stolen"},
        {"all_lines": "1", "outcome": "paid", "method": "cash"},
        {"lines": ["999999999"], "outcome": "failed"},
        {"goto": "x"},
        {"q": "x" * 500, "action": "search"},
        {"token": "not-a-uuid", "outcome": "failed"},
    ],
)
def test_bad_record_input_changes_nothing_and_is_not_a_500(login, officer, approver, data):
    batch = approved_batch(officer, approver, 2)
    client = login(officer)
    response = client.post(reverse("payments:record", args=[batch.pk]), data)
    assert response.status_code in (200, 302)
    assert statuses(batch) == {"pending": 2}


# --- the settlement file ----------------------------------------------------------------------


def settlement_file(rows: list[list[str]], header=("reference", "transaction", "status", "amount")):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    upload = io.BytesIO(buffer.getvalue().encode("utf-8"))
    upload.name = "settlement.csv"
    return upload


def test_a_settlement_file_is_previewed_then_recorded_once(login, officer, approver):
    batch = approved_batch(officer, approver, 4)
    lines = list(Payment.objects.filter(batch=batch).order_by("pk"))
    client = login(officer)
    url = reverse("payments:settlement", args=[batch.pk])
    rows = [[f"HVP-{line.pk}", f"TX-{line.pk}", "SUCCESS", f"{line.amount}"] for line in lines[:3]]
    rows.append([f"HVP-{lines[3].pk}", "", "failed", ""])
    page = client.post(url, {"file": settlement_file(rows), "action": "preview"})
    assert page.status_code == 200
    preview = page.context["preview"]
    assert preview.counts() == {"paid": 3, "failed": 1, "unclaimed": 0}
    assert statuses(batch) == {"pending": 4}  # nothing recorded yet
    token = preview.token
    first = client.post(url, {"action": "confirm", "token": token}, follow=True)
    assert "4 lines recorded as failed, paid." in messages_of(first)
    second = client.post(url, {"action": "confirm", "token": token}, follow=True)
    assert "4 lines recorded as failed, paid." in messages_of(second)
    assert statuses(batch) == {"paid": 3, "failed": 1}
    assert ledger_entries_per_line(batch) == {2}
    paid = Payment.objects.get(pk=lines[0].pk)
    assert (paid.method, paid.reference) == ("mobile_money", f"TX-{lines[0].pk}")

    # The same file again: everything is already recorded, nothing is recorded twice.
    page = client.post(url, {"file": settlement_file(rows), "action": "preview"})
    assert page.context["preview"].to_record == []
    assert len(page.context["preview"].already_recorded) == 4


def test_a_line_recorded_between_preview_and_confirm_is_not_recorded_twice(
    login, officer, approver
):
    batch = approved_batch(officer, approver, 2)
    lines = list(Payment.objects.filter(batch=batch).order_by("pk"))
    client = login(officer)
    url = reverse("payments:settlement", args=[batch.pk])
    rows = [[f"HVP-{line.pk}", f"TX-{line.pk}", "paid", ""] for line in lines]
    page = client.post(url, {"file": settlement_file(rows), "action": "preview"})
    services.payments_record(payments=[lines[0]], actor=officer, outcome="unclaimed")
    response = client.post(url, {"action": "confirm", "token": page.context["preview"].token})
    assert response.status_code == 302
    assert statuses(batch) == {"unclaimed": 1, "paid": 1}
    assert ledger_entries_per_line(batch) == {2}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["HVP-999999999", "TX-1", "paid", ""]], "is not a reference of this batch"),
        ([["NOT-A-REF", "TX-1", "paid", ""]], "is not a reference of this batch"),
        ([["{line}", "TX-1", "lost", ""]], "the status must be paid, failed or unclaimed"),
        ([["{line}", "", "paid", ""]], "needs the provider's transaction"),
        ([["{line}", "TX-1", "paid", "1.00"]], "is not the line's amount"),
        ([["{line}", "TX-1", "paid", "abc"]], "is not the line's amount"),
        ([["{line}", "TX-1", "paid", ""], ["{line}", "TX-2", "paid", ""]], "more than once"),
    ],
)
def test_a_wrong_settlement_file_is_refused_whole(login, officer, approver, rows, message):
    batch = approved_batch(officer, approver, 2)
    line = Payment.objects.filter(batch=batch).order_by("pk").first()
    other = Payment.objects.filter(batch=batch).order_by("pk").last()
    rows = [[cell.format(line=f"HVP-{line.pk}") for cell in row] for row in rows]
    rows.append([f"HVP-{other.pk}", "TX-OK", "paid", ""])
    client = login(officer)
    page = client.post(
        reverse("payments:settlement", args=[batch.pk]),
        {"file": settlement_file(rows), "action": "preview"},
    )
    assert page.status_code == 200
    assert page.context["preview"] is None
    assert message in page.content.decode().replace("&#x27;", "'")
    assert statuses(batch) == {"pending": 2}


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xfe\x00garbage", b"just,a,header\n", b"reference,status\nHVP-1,paid\n"],
)
def test_an_unreadable_settlement_file_is_refused(login, officer, approver, content):
    batch = approved_batch(officer, approver, 1)
    upload = io.BytesIO(content)
    upload.name = "x.csv"
    client = login(officer)
    page = client.post(
        reverse("payments:settlement", args=[batch.pk]), {"file": upload, "action": "preview"}
    )
    assert page.status_code == 200 and page.context["preview"] is None
    assert statuses(batch) == {"pending": 1}


def test_a_confirm_without_a_preview_records_nothing(login, officer, approver):
    batch = approved_batch(officer, approver, 1)
    client = login(officer)
    response = client.post(
        reverse("payments:settlement", args=[batch.pk]),
        {"action": "confirm", "token": str(uuid.uuid4())},
        follow=True,
    )
    assert "Upload the settlement file again to record it." in messages_of(response)
    assert statuses(batch) == {"pending": 1}


# --- closing and approving with eyes open -------------------------------------------------------


def test_closing_shows_the_summary_and_carries_forward_in_the_same_step(login, officer, approver):
    batch = approved_batch(officer, approver, 4)
    lines = list(Payment.objects.filter(batch=batch).order_by("pk"))
    services.payments_record(
        payments=lines[:2], actor=officer, outcome="paid", method="cash", acknowledged=True
    )
    services.payments_record(payments=[lines[2]], actor=officer, outcome="failed")
    services.payments_record(payments=[lines[3]], actor=officer, outcome="unclaimed")
    client = login(officer)
    url = reverse("payments:batch_close", args=[batch.pk])
    page = client.get(url)
    assert page.status_code == 200
    summary = page.context["summary"]
    assert [(total.status, total.count) for total in summary["totals"]] == [
        ("paid", 2),
        ("failed", 1),
        ("unclaimed", 1),
    ]
    assert summary["carriable_count"] == 2
    assert summary["carriable_total"] == lines[2].amount + lines[3].amount
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DISBURSING  # looking changes nothing
    response = client.post(url, {"carry_forward": "on"}, follow=True)
    assert any("2 lines will be paid again" in message for message in messages_of(response))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CLOSED
    assert set(
        Payment.objects.filter(batch=batch, carry_forward=True).values_list("pk", flat=True)
    ) == {lines[2].pk, lines[3].pk}


def test_closing_without_carry_forward_and_with_pending_lines(login, officer, approver):
    batch = approved_batch(officer, approver, 2)
    client = login(officer)
    url = reverse("payments:batch_close", args=[batch.pk])
    response = client.post(url, {}, follow=True)
    assert any("still pending" in message for message in messages_of(response))
    services.payments_record(
        payments=list(Payment.objects.filter(batch=batch)), actor=officer, outcome="failed"
    )
    client.post(url, {})
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CLOSED
    assert not Payment.objects.filter(batch=batch, carry_forward=True).exists()


def test_the_approver_sees_what_changed_since_last_month(login, officer, approver):
    last_month = (THIS_MONTH - timezone.timedelta(days=1)).replace(day=1)
    source = FundingSourceFactory()
    kept = StipendPlanFactory(funding_source=source)
    raised = StipendPlanFactory(funding_source=source)
    ended = StipendPlanFactory(funding_source=source)
    failed = StipendPlanFactory(funding_source=source)
    (previous,) = services.disbursement_run(period=last_month, actor=officer)
    previous = services.batch_approve(batch=previous, actor=approver)
    old_lines = {line.plan_id: line for line in Payment.objects.filter(batch=previous)}
    services.payments_record(
        payments=[old_lines[pk] for pk in (kept.pk, raised.pk, ended.pk)],
        actor=officer,
        outcome="paid",
        method="cash",
        acknowledged=True,
    )
    services.payments_record(payments=[old_lines[failed.pk]], actor=officer, outcome="failed")
    services.batch_close(batch=previous, actor=officer, carry_forward=True)
    services.plan_set_status(plan=ended, actor=officer, status="ended")
    ended.refresh_from_db()
    type(ended).objects.filter(pk=ended.pk).update(end_date=last_month)
    type(raised).objects.filter(pk=raised.pk).update(amount=Decimal("1500.00"))
    new = StipendPlanFactory(funding_source=source)
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    page = login(approver).get(reverse("payments:batch_approve", args=[batch.pk]))
    changes = page.context["changes"]
    assert changes.previous == previous
    assert changes.new_plans == [new.case.code]
    assert changes.ended_plans == [ended.case.code]
    assert changes.changed == [(raised.case.code, Decimal("1000.00"), Decimal("1500.00"))]
    assert changes.carried == [failed.case.code]
    assert new.case.code in page.content.decode()


def test_a_wallet_changed_while_the_approver_reads_stops_the_approval(login, officer, approver):
    plan = StipendPlanFactory(amount="1000.00")
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    client = login(approver)
    url = reverse("payments:batch_approve", args=[batch.pk])
    seen = client.get(url).context["payouts_seen"]
    # Meanwhile, someone else sends this month's stipend to another wallet.
    services.plan_set_payout(
        plan=plan, actor=officer, payout_method="mobile_money", payout_account=WALLET
    )
    response = client.post(url, {"action": "approve", "payouts_seen": seen}, follow=True)
    assert any("changed after you opened this page" in m for m in messages_of(response))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT and not LedgerEntry.objects.filter(batch=batch)
    # The page shown again lists the change, and approving what it shows goes through.
    assert response.context["changes"].payout == [plan.case.code]
    again = response.context["payouts_seen"]
    assert again != seen
    client.post(url, {"action": "approve", "payouts_seen": again})
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPROVED
    assert Payment.objects.get(batch=batch).payee_account == WALLET


def test_an_approval_without_the_pages_token_is_refused(login, officer, approver):
    StipendPlanFactory()
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    url = reverse("payments:batch_approve", args=[batch.pk])
    response = login(approver).post(url, {"action": "approve"}, follow=True)
    assert any("changed after you opened this page" in m for m in messages_of(response))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_approval_raced_by_a_wallet_change_never_pays_a_wallet_unseen(make_staff):
    """Either the change comes first and the approval is refused, or the approval comes first
    and its line keeps the wallet the approver saw."""
    from tests.racing import race

    officer, approver = make_staff(Role.FINANCE_OFFICER), make_staff(Role.FINANCE_APPROVER)
    plan = StipendPlanFactory()
    services.plan_set_payout(
        plan=plan, actor=officer, payout_method="mobile_money", payout_account=WALLET
    )
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    seen = selectors.payouts_seen(batch=batch)
    other_wallet = "+66899999999"
    _results, errors = race(
        [
            lambda: services.batch_approve(batch=batch, actor=approver, payouts_seen=seen),
            lambda: services.plan_set_payout(
                plan=plan, actor=officer, payout_method="mobile_money", payout_account=other_wallet
            ),
        ]
    )
    batch.refresh_from_db()
    line = Payment.objects.get(batch=batch)
    if batch.status == BatchStatus.APPROVED:
        assert errors == [] and line.payee_account == WALLET
    else:
        assert [str(error) for error in errors] == [
            "Where some lines of this batch are paid was changed after you opened this page. "
            "Nothing was approved: look at the changes again, then approve."
        ]
        assert batch.status == BatchStatus.DRAFT and line.payee_account == other_wallet


# --- names and wallets on the day -------------------------------------------------------------


@pytest.fixture
def paying(officer, approver):
    """A batch being paid out by `officer`, with a named case and a wallet."""
    source = FundingSourceFactory()
    plan = StipendPlanFactory(
        case=VerifiedCaseFactory(real_name=NAME), funding_source=source, amount="1000.00"
    )
    services.plan_set_payout(
        plan=plan, actor=officer, payout_method="mobile_money", payout_account="081 234 5678"
    )
    StipendPlanFactory(funding_source=source)
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    batch = services.batch_approve(batch=batch, actor=approver)
    return services.batch_take_for_payout(batch=batch, actor=officer)


def payees_page(client, batch):
    return client.get(reverse("payments:batch_detail", args=[batch.pk]), {"payees": "1"})


def test_the_paying_officer_sees_names_and_wallets_logged(login, officer, paying):
    client = login(officer)
    plain = client.get(reverse("payments:batch_detail", args=[paying.pk])).content.decode()
    assert NAME not in plain and WALLET not in plain
    page = payees_page(client, paying).content.decode()
    assert NAME in page and WALLET in page
    entry = AccessLog.objects.filter(action=AccessLog.Action.REVEAL, actor=officer).latest("at")
    assert (entry.field, entry.target_id) == ("payees", str(paying.pk))
    # The log says whose names and wallets were shown, by case code, never the values.
    shown = sorted(paying.lines.values_list("case__code", flat=True))
    assert entry.detail["cases"] == shown and NAME not in str(entry.detail)
    csv_url = reverse("payments:batch_csv", args=[paying.pk])
    csv_text = exporting.content(exporting.export(client, csv_url, {"payees": "1"}))
    assert NAME in csv_text.decode("utf-8-sig") and WALLET in csv_text.decode("utf-8-sig")
    export = AccessLog.objects.get(
        action=AccessLog.Action.EXPORT, actor=officer, detail__export="payments.batch_csv"
    )
    assert export.detail["names"] is True
    # Without asking, the transfer list has codes only.
    codes_only = exporting.content(exporting.export(client, csv_url)).decode("utf-8-sig")
    assert NAME not in codes_only and WALLET not in codes_only


def test_a_payee_list_logs_the_cases_it_names_a_bounded_number_at_a_time(
    officer, paying, monkeypatch
):
    """Each REVEAL entry of a transfer list with names lists at most REVEAL_CASES_PER_ENTRY case
    codes (here one); together they list every case named, and they count once in the budget."""
    monkeypatch.setattr(common, "REVEAL_CASES_PER_ENTRY", 1)
    named = array("q")
    output = io.BytesIO()
    exports.write_batch_csv(output, batch=paying, actor=officer, with_payees=True, named=named)
    assert NAME in output.getvalue().decode("utf-8-sig")
    lines = list(paying.lines.values_list("case__code", "case_id"))
    assert len(lines) == 2
    entries = AccessLog.objects.filter(
        action=AccessLog.Action.REVEAL, actor=officer, field="payees"
    ).order_by("pk")
    assert [entry.detail["part"] for entry in entries] == [1, 2]
    assert all(entry.detail["via"] == "payments.transfer_list" for entry in entries)
    assert sorted(code for entry in entries for code in entry.detail["cases"]) == sorted(
        code for code, _id in lines
    )
    assert NAME not in str([entry.detail for entry in entries])
    assert budgets.revealed_today(officer) == 1
    assert sorted(named) == sorted(case_id for _code, case_id in lines)


def test_a_payee_list_past_the_reveal_budget_writes_no_name(officer, paying, settings):
    settings.HAVEN_REVEAL_BUDGET_PER_DAY = 1
    reveal_within_budget(actor=officer, obj=VerifiedCaseFactory(), field_name="real_name")
    output = io.BytesIO()
    with pytest.raises(PermissionDenied, match="budget for the day"):
        exports.write_batch_csv(output, batch=paying, actor=officer, with_payees=True)
    assert NAME.encode() not in output.getvalue()
    assert not AccessLog.objects.filter(
        action=AccessLog.Action.REVEAL, actor=officer, field="payees"
    ).exists()


def test_no_names_for_another_officer_nor_the_approver(login, other_officer, approver, paying):
    for user in (other_officer, approver):
        client = login(user)
        page = payees_page(client, paying).content.decode()
        assert NAME not in page and WALLET not in page
        response = client.post(reverse("payments:batch_csv", args=[paying.pk]), {"payees": "1"})
        assert response.status_code in (302, 403)
        assert NAME.encode() not in response.content
        assert "export" not in response.get("Location", "")
    assert AccessLog.objects.filter(
        action=AccessLog.Action.DENIED,
        actor=other_officer,
        detail__permission="payments.see_payees",
    ).exists()


def test_no_names_after_closing(login, officer, paying):
    services.payments_record(
        payments=list(Payment.objects.filter(batch=paying)),
        actor=officer,
        outcome="paid",
        method="cash",
        acknowledged=True,
    )
    services.batch_close(batch=paying, actor=officer)
    client = login(officer)
    page = payees_page(client, paying).content.decode()
    assert NAME not in page and WALLET not in page
    response = client.post(reverse("payments:batch_xlsx", args=[paying.pk]), {"payees": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:batch_detail", args=[paying.pk])
    assert WALLET.encode() not in response.content
    assert not ExportJob.objects.exists()


def test_a_payee_list_built_during_the_payout_is_not_downloaded_after_closing(
    login, officer, paying
):
    client = login(officer)
    job = exporting.build(
        exporting.start(client, reverse("payments:batch_csv", args=[paying.pk]), {"payees": "1"})
    )
    assert job.status == ExportJob.Status.READY
    services.payments_record(
        payments=list(Payment.objects.filter(batch=paying)),
        actor=officer,
        outcome="paid",
        method="cash",
        acknowledged=True,
    )
    services.batch_close(batch=paying, actor=officer)
    response = exporting.download(client, job)
    assert response.status_code == 302 and not response.has_header("Content-Disposition")
    assert AccessLog.objects.filter(
        action=AccessLog.Action.DENIED, actor=officer, target_id=str(job.pk)
    ).exists()


def test_names_of_another_batch_are_not_shown(login, officer, approver, paying):
    other = approved_batch(officer, approver, 1, currency="MMK")
    other = services.batch_take_for_payout(batch=other, actor=officer)
    line = Payment.objects.get(batch=other)
    assert officer.has_perm("payments.see_payees", DisbursementBatch.objects.get(pk=paying.pk))
    page = payees_page(login(officer), other).content.decode()
    assert NAME not in page and WALLET not in page
    assert line.case.code in page


@pytest.mark.parametrize(
    ("method", "account", "stored"),
    [
        ("mobile_money", "0812345678", "+66812345678"),
        ("mobile_money", "+95 9 420 123 456", "+959420123456"),
        ("mobile_money", "09 420 123 456", "+959420123456"),
        ("bank_transfer", "123-4-56789-0", "1234567890"),
        ("cash", "", ""),
    ],
)
def test_wallets_are_validated_and_stored_encrypted(officer, method, account, stored):
    plan = StipendPlanFactory()
    plan = services.plan_set_payout(
        plan=plan, actor=officer, payout_method=method, payout_account=account
    )
    plan.refresh_from_db()
    assert (plan.payout_method, str(plan.payout_account or "")) == (method, stored)
    with connection.cursor() as cursor:
        cursor.execute("SELECT payout_account FROM payments_stipendplan WHERE id = %s", [plan.pk])
        (raw,) = cursor.fetchone()
    assert raw is None if not stored else (stored not in raw and raw.startswith("hv1:"))


@pytest.mark.parametrize(
    ("method", "account"),
    [
        ("mobile_money", "+1 415 555 2671"),
        ("mobile_money", "12345"),
        ("mobile_money", ""),
        ("bank_transfer", "12ab"),
        ("cash", "0812345678"),
        ("cheque", ""),
    ],
)
def test_a_bad_wallet_is_refused_and_changes_nothing(login, officer, method, account):
    plan = StipendPlanFactory()
    with pytest.raises(PaymentError):
        services.plan_set_payout(
            plan=plan, actor=officer, payout_method=method, payout_account=account
        )
    response = login(officer).post(
        reverse("payments:plan_payout", args=[plan.pk]),
        {"payout_method": method, "payout_account": account},
        follow=True,
    )
    assert response.status_code == 200
    plan.refresh_from_db()
    assert (plan.payout_method, plan.payout_account) == ("", None)


# --- cases without a plan -------------------------------------------------------------------------


def test_finance_sees_the_verified_cases_without_a_plan(login, officer):
    without = VerifiedCaseFactory()
    with_plan = StipendPlanFactory().case
    page = login(officer).get(reverse("payments:cases_without_plan"))
    codes = [case.code for case in page.context["page"].object_list]
    assert without.code in codes and with_plan.code not in codes


def test_the_admin_never_shows_a_wallet(login, make_staff, officer):
    plan = StipendPlanFactory()
    services.plan_set_payout(
        plan=plan, actor=officer, payout_method="mobile_money", payout_account=WALLET
    )
    client = login(make_staff(Role.ADMINISTRATOR, is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:payments_stipendplan_change", args=[plan.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert WALLET not in text and "hv1:" not in text


def test_a_plans_wallet_is_revealed_only_to_the_officer_paying_it_out(
    officer, other_officer, paying
):
    from django.core.exceptions import PermissionDenied

    from accounts.services import protected_field_reveal
    from payments.models import StipendPlan

    plan = StipendPlan.objects.get(case__payments__batch=paying, payout_method="mobile_money")
    assert (
        protected_field_reveal(
            actor=officer,
            obj=plan,
            field_name="payout_account",
            permission="payments.record_payout",
        )
        == WALLET
    )
    with pytest.raises(PermissionDenied):
        protected_field_reveal(
            actor=other_officer,
            obj=plan,
            field_name="payout_account",
            permission="payments.record_payout",
        )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_settlement_confirmed_at_once_records_each_line_once(make_staff):
    from tests.racing import race

    officer, approver = make_staff(Role.FINANCE_OFFICER), make_staff(Role.FINANCE_APPROVER)
    batch = approved_batch(officer, approver, 3)
    rows = [(line.pk, "paid", f"TX-{line.pk}") for line in Payment.objects.filter(batch=batch)]
    token = uuid.uuid4()

    def confirm():
        return services.settlement_record(batch=batch, actor=officer, rows=rows, token=token)

    results, errors = race([confirm] * 4)
    assert errors == []
    assert all(len(recorded) == 3 for recorded, _skipped in results)
    assert statuses(batch) == {"paid": 3}
    assert ledger_entries_per_line(batch) == {2}


def test_the_payees_page_keeps_its_queries_flat(login, officer, approver, paying):
    client = login(officer)
    with CaptureQueriesContext(connection) as few:
        assert payees_page(client, paying).status_code == 200
    source = FundingSourceFactory()
    StipendPlanFactory.create_batch(30, funding_source=source, currency="MMK", amount="150000")
    (mmk,) = [
        batch
        for batch in services.disbursement_run(period=THIS_MONTH, actor=officer)
        if batch.currency == "MMK"
    ]
    mmk = services.batch_approve(batch=mmk, actor=approver)
    mmk = services.batch_take_for_payout(batch=mmk, actor=officer)
    with CaptureQueriesContext(connection) as many:
        page = payees_page(client, mmk)
    assert page.context["show_payees"]
    assert len(many) == len(few)


def test_only_the_officer_paying_a_batch_out_records_and_closes_it(paying, other_officer):
    """Another finance officer cannot record lines of, reconcile or close a batch someone else
    took for payout: the one who sees its payees is the one who pays them."""
    line = Payment.objects.filter(batch=paying).first()
    with pytest.raises(services.PaymentError, match="Another finance officer"):
        services.payments_record(
            payments=[line], actor=other_officer, outcome="paid", method="cash"
        )
    with pytest.raises(services.PaymentError, match="Another finance officer"):
        services.batch_close(batch=paying, actor=other_officer)
    line.refresh_from_db()
    paying.refresh_from_db()
    assert line.status == "pending" and paying.status == "disbursing"


# --- a wallet changed between approval and payout ------------------------------------------------

LAST_MONTH = (THIS_MONTH - timezone.timedelta(days=1)).replace(day=1)
NEW_WALLET = "+66898765432"


def payee_wallets(batch) -> dict[str, str]:
    lines = list(batch.lines.select_related("case").order_by("pk"))
    payees = selectors.payees_for(line_ids=[line.pk for line in lines])
    return {line.case.code: payee.account for line, payee in zip(lines, payees, strict=True)}


def test_a_wallet_changed_after_approval_is_paid_from_the_next_batch_and_shown_to_its_approver(
    login, officer, other_officer, approver, make_staff
):
    """What the approver approved is what is paid: a wallet set again after approval does not
    redirect the approved line; the next month's approver sees which case is paid somewhere
    else, and the person who set it may not approve that batch."""
    source = FundingSourceFactory()
    plan = StipendPlanFactory(case=VerifiedCaseFactory(real_name=NAME), funding_source=source)
    services.plan_set_payout(
        plan=plan, actor=officer, payout_method="mobile_money", payout_account=WALLET
    )
    StipendPlanFactory(funding_source=source)
    (first,) = services.disbursement_run(period=LAST_MONTH, actor=officer)
    first = services.batch_approve(batch=first, actor=approver)

    response = login(other_officer).post(
        reverse("payments:plan_payout", args=[plan.pk]),
        {"payout_method": "mobile_money", "payout_account": NEW_WALLET},
        follow=True,
    )
    assert any("already approved" in message for message in messages_of(response))
    assert payee_wallets(first)[plan.case.code] == WALLET

    (second,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    assert payee_wallets(second)[plan.case.code] == NEW_WALLET
    changes = selectors.batch_changes(batch=second)
    assert changes.payout == [plan.case.code] and changes.payout_count == 1
    page = login(approver).get(reverse("payments:batch_approve", args=[second.pk]))
    assert plan.case.code in page.content.decode()
    assert NEW_WALLET not in page.content.decode() and NAME not in page.content.decode()

    # The officer who set the wallet, were they also an approver, may not approve it.
    other_officer.user_permissions.add(
        *approver.groups.get().permissions.filter(codename="approve_batch")
    )
    other_officer = type(other_officer).objects.get(pk=other_officer.pk)
    with pytest.raises(PaymentError, match="someone else must approve"):
        services.batch_approve(batch=second, actor=other_officer)
    second.refresh_from_db()
    assert second.status == BatchStatus.DRAFT
    assert services.batch_approve(batch=second, actor=approver).status == BatchStatus.APPROVED


def test_a_wallet_set_while_the_batch_is_a_draft_is_what_its_approver_approves(
    officer, other_officer, approver
):
    plan = StipendPlanFactory()
    services.plan_set_payout(
        plan=plan, actor=officer, payout_method="mobile_money", payout_account=WALLET
    )
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    services.plan_set_payout(
        plan=plan, actor=other_officer, payout_method="bank_transfer", payout_account="1234567890"
    )
    line = batch.lines.get()
    assert line.payee_method == "bank_transfer"
    assert payee_wallets(batch) == {plan.case.code: "1234567890"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT payee_account FROM payments_payment WHERE id = %s", [line.pk])
        (raw,) = cursor.fetchone()
    assert raw.startswith("hv1:") and "1234567890" not in raw


def test_the_same_wallet_set_again_is_no_change(officer, other_officer, approver):
    plan = StipendPlanFactory()
    services.plan_set_payout(
        plan=plan, actor=officer, payout_method="mobile_money", payout_account=WALLET
    )
    (first,) = services.disbursement_run(period=LAST_MONTH, actor=officer)
    services.batch_approve(batch=first, actor=approver)
    services.plan_set_payout(
        plan=plan, actor=other_officer, payout_method="mobile_money", payout_account="081 234 5678"
    )
    plan.refresh_from_db()
    assert plan.payout_set_by == officer
    (second,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    assert selectors.batch_changes(batch=second).payout_count == 0


def test_each_download_of_the_payee_list_counts_in_the_reveal_budget(
    login, officer, paying, settings, make_staff
):
    """Building the list is a reveal of the batch; so is each download, on the day it happens:
    a download the next day, once the day's budget is spent, is refused, logged and alerted."""
    settings.HAVEN_REVEAL_BUDGET_PER_DAY = 1
    make_staff(Role.ADMINISTRATOR)
    other_case = VerifiedCaseFactory()
    client = login(officer)
    csv_url = reverse("payments:batch_csv", args=[paying.pk])
    job = exporting.build(exporting.start(client, csv_url, {"payees": "1"}))
    # The list names every case of the batch: an erasure of any of them destroys it.
    assert job.named_case_ids == sorted(paying.lines.values_list("case_id", flat=True))
    # The same day: the batch is the record already revealed by the build, so it costs nothing.
    assert NAME in exporting.content(exporting.download(client, job)).decode("utf-8-sig")
    downloads = AccessLog.objects.filter(
        action=AccessLog.Action.REVEAL, actor=officer, detail__download="payments.batch_csv"
    )
    (counted,) = downloads
    assert (counted.target_id, counted.field) == (str(paying.pk), "payees")

    tomorrow = datetime.datetime.combine(
        timezone.localdate() + datetime.timedelta(days=1),
        datetime.time(0, 1),
        tzinfo=timezone.get_current_timezone(),
    )
    with time_machine.travel(tomorrow):
        # Another record revealed first spends the day's budget.
        reveal_within_budget(actor=officer, obj=other_case, field_name="real_name")
        client = login(officer)
        response = exporting.download(client, job)
        assert response.status_code == 302 and not response.has_header("Content-Disposition")
        followed = client.get(response["Location"])
        assert "your budget for the day" in followed.content.decode()
    assert downloads.count() == 1
    refusal = AccessLog.objects.get(action=AccessLog.Action.DENIED, actor=officer)
    assert refusal.detail == {"action": "reveal", "budget": 1}
    assert Notification.objects.filter(kind="accounts.reveal_budget").exists()
    assert (
        AccessLog.objects.filter(action=AccessLog.Action.EXPORT, detail__has_key="download").count()
        == 1
    )


def test_a_carried_line_sent_to_a_wallet_set_since_is_paid_somewhere_else(
    officer, other_officer, approver
):
    """A failed line carried into this month goes where its plan now says: its approver sees
    it among the lines paid somewhere else, not only among the carried ones."""
    plan = StipendPlanFactory()
    services.plan_set_payout(
        plan=plan, actor=officer, payout_method="mobile_money", payout_account=WALLET
    )
    (previous,) = services.disbursement_run(period=LAST_MONTH, actor=officer)
    previous = services.batch_approve(batch=previous, actor=approver)
    services.payments_record(payments=list(previous.lines.all()), actor=officer, outcome="failed")
    services.batch_close(batch=previous, actor=officer, carry_forward=True)
    services.plan_set_status(plan=plan, actor=officer, status="paused")
    services.plan_set_payout(
        plan=plan, actor=other_officer, payout_method="mobile_money", payout_account=NEW_WALLET
    )
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    assert payee_wallets(batch) == {plan.case.code: NEW_WALLET}
    changes = selectors.batch_changes(batch=batch)
    assert changes.carried == [plan.case.code] and changes.payout == [plan.case.code]
    assert selectors.payouts_set_by(batch=batch, user=other_officer) == 1
