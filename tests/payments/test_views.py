"""The payment pages through the test client: a finance officer starts the month's run, an
approver approves it, the payouts are recorded in the browser, the batch closes, and the ledger
and the dashboard agree with the batch to the satang. Bad input changes nothing and says why;
the pages show case codes, never names."""

from __future__ import annotations

import datetime
import re
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from accounts.roles import Role
from audit.models import AccessLog
from cases.models import ItemBrought
from config.celery import app as celery_app
from payments import services
from payments.models import (
    BatchStatus,
    DisbursementBatch,
    LedgerEntry,
    OneOffPayment,
    OneOffStatus,
    Payment,
    PaymentStatus,
    PlanStatus,
    RewardPolicy,
    StipendPlan,
)
from payments.tasks import run_monthly_disbursement
from tests.factories import FundingSourceFactory, StipendPlanFactory, VerifiedCaseFactory

pytestmark = pytest.mark.django_db

THIS_MONTH = timezone.localdate().replace(day=1)
PERIOD = f"{THIS_MONTH:%Y-%m}"
NAME = "Kyaw Zin Htet"
SECRETS = (NAME, "hv1:")


@pytest.fixture
def officer(make_staff):
    return make_staff(Role.FINANCE_OFFICER)


@pytest.fixture
def approver(make_staff):
    return make_staff(Role.FINANCE_APPROVER)


@pytest.fixture
def eager_celery():
    """Tasks run in the test's process and transaction (the run itself is tested with a real
    worker in test_run_resilience.py)."""
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def html(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} appears in the page"


def follow(client, response):
    """Follow a redirect, returning the page it leads to (with its messages)."""
    assert response.status_code == 302, response.status_code
    return client.get(response["Location"])


def assert_books_balance(batch: DisbursementBatch) -> None:
    batch.refresh_from_db()
    assert batch.total == services.batch_lines_total(batch)
    if batch.status in (BatchStatus.APPROVED, BatchStatus.DISBURSING, BatchStatus.CLOSED):
        assert services.batch_ledger_total(batch) == batch.total


@pytest.fixture
def plans():
    """Four stipends of this month in THB; one pro rata so the total has satang in it."""
    source = FundingSourceFactory(name="Fictional Relief Fund")
    named = StipendPlanFactory(case=VerifiedCaseFactory(real_name=NAME), funding_source=source)
    others = StipendPlanFactory.create_batch(2, funding_source=source)
    partial = StipendPlanFactory(
        funding_source=source, amount="1234.57", start_date=THIS_MONTH + datetime.timedelta(days=7)
    )
    return [named, *others, partial]


# --- the month, from the run to the closed batch ---------------------------------------------


def test_a_month_from_run_to_close_agrees_with_ledger_and_dashboard(
    login, officer, approver, plans, eager_celery, django_capture_on_commit_callbacks
):
    officer_client = login(officer)
    approver_client = login(approver)

    # The finance officer starts the run; the worker (here: in process) creates the batch.
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(reverse("payments:run"), {"period": PERIOD})
    page = follow(officer_client, response)
    assert f"The run for {PERIOD} has started; refresh in a moment." in messages_of(page)
    batch = DisbursementBatch.objects.get(period=THIS_MONTH, currency="THB")
    assert (batch.status, batch.prepared_by, batch.line_count) == (BatchStatus.DRAFT, officer, 4)
    expected_total = sum(services.plan_amount_for(plan, THIS_MONTH) for plan in plans)
    assert batch.total == expected_total
    assert len(mail.outbox) == 1 and NAME not in mail.outbox[0].body
    assert_no_secrets(html(page))

    # The approver approves it.
    page = approver_client.get(reverse("payments:batch_approve", args=[batch.pk]))
    assert page.status_code == 200
    response = approver_client.post(
        reverse("payments:batch_approve", args=[batch.pk]),
        {"action": "approve", "payouts_seen": page.context["payouts_seen"]},
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.approved_by) == (BatchStatus.APPROVED, approver)
    assert_books_balance(batch)

    # The payouts: one cash with acknowledgement, one mobile money, the rest in bulk.
    lines = list(Payment.objects.filter(batch=batch).order_by("pk"))
    record_url = reverse("payments:record", args=[batch.pk])
    assert officer_client.get(f"{record_url}?line={lines[0].pk}").status_code == 200
    response = officer_client.post(
        record_url,
        {"lines": [lines[0].pk], "outcome": "paid", "method": "cash", "acknowledged": "on"},
    )
    assert response.status_code == 302
    response = officer_client.post(
        record_url,
        {
            "lines": [lines[1].pk],
            "outcome": "paid",
            "method": "mobile_money",
            "reference": "WAVE-88812",
        },
    )
    assert response.status_code == 302
    response = officer_client.post(
        record_url,
        {
            "lines": [line.pk for line in lines[2:]],
            "outcome": "paid",
            "method": "bank_transfer",
            "reference": "KBANK-2026-11-0042",
        },
    )
    assert response.status_code == 302
    assert set(Payment.objects.filter(batch=batch).values_list("status", flat=True)) == {"paid"}
    assert_books_balance(batch)

    # The batch closes.
    response = officer_client.post(reverse("payments:batch_close", args=[batch.pk]))
    page = follow(officer_client, response)
    assert f"Batch {batch.label} is closed." in messages_of(page)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CLOSED
    assert_books_balance(batch)
    detail = html(page)
    assert_no_secrets(detail)
    for line in lines:
        assert line.case.code in detail

    # The ledger and the dashboard agree with the batch to the satang.
    ledger = approver_client.get(reverse("payments:ledger"), {"currency": "THB", "month": PERIOD})
    (thb,) = ledger.context["currency_totals"]
    assert (thb.currency, thb.disbursed, thb.committed, thb.released) == (
        "THB",
        batch.total,
        Decimal("0.00"),
        Decimal(0),
    )
    total_text = f"{batch.total:,.2f} THB"
    assert total_text in html(ledger)
    assert_no_secrets(html(ledger))

    dashboard = approver_client.get(reverse("payments:dashboard"))
    (chart,) = dashboard.context["charts"]
    assert (chart["currency"], chart["total"]) == ("THB", batch.total)
    this_month_row = dashboard.context["rows"][-1]
    assert this_month_row["month"] == THIS_MONTH
    assert this_month_row["amounts"] == [(batch.total, "THB")]
    page = html(dashboard)
    assert total_text in page and "<svg" in page
    assert_no_secrets(page)


def test_the_run_is_queued_with_a_period_and_an_actor_id_only(
    login, officer, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(run_monthly_disbursement, "delay", lambda **kwargs: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        response = login(officer).post(reverse("payments:run"), {"period": PERIOD})
    assert response.status_code == 302
    assert sent == [{"period": PERIOD, "actor_id": officer.pk}]


@pytest.mark.parametrize("period", ["2026-13", "November", "", "2999-01"])
def test_a_bad_month_queues_nothing(login, officer, monkeypatch, period):
    sent = []
    monkeypatch.setattr(run_monthly_disbursement, "delay", lambda **kwargs: sent.append(kwargs))
    response = login(officer).post(reverse("payments:run"), {"period": period})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert sent == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_unreachable_broker_is_said_plainly_not_a_server_error(login, officer, monkeypatch):
    """No surrounding transaction here, as in production: the task is queued at once."""

    def broker_down(**kwargs):
        raise BrokerOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_monthly_disbursement, "delay", broker_down)
    response = login(officer).post(reverse("payments:run"), {"period": PERIOD})
    assert response.status_code == 503
    page = html(response)
    assert "could not be started: the task queue cannot be reached" in page
    assert "Connection refused" not in page
    assert not DisbursementBatch.objects.exists()


# --- plans ---------------------------------------------------------------------------------


def plan_form(source, **overrides) -> dict:
    return {
        "amount": "1000.00",
        "currency": "THB",
        "start_date": THIS_MONTH.isoformat(),
        "end_date": "",
        "funding_source": source.pk,
        **overrides,
    }


def test_officer_sets_up_pauses_resumes_and_ends_a_plan(login, officer):
    case = VerifiedCaseFactory(real_name=NAME)
    source = FundingSourceFactory()
    client = login(officer)
    url = reverse("payments:case_plans", args=[case.pk])
    page = client.get(url)
    assert page.context["form"]["amount"].value() == "1000.00"
    assert page.context["form"]["currency"].value() == "THB"
    response = client.post(url, plan_form(source, amount="1250.50"))
    assert response.status_code == 302
    plan = StipendPlan.objects.get(case=case)
    assert (plan.amount, plan.currency, plan.created_by) == (Decimal("1250.50"), "THB", officer)
    status_url = reverse("payments:plan_status", args=[plan.pk])
    for action, status in (("pause", "paused"), ("resume", "active"), ("end", "ended")):
        client.post(status_url, {"action": action})
        plan.refresh_from_db()
        assert plan.status == status
    page = client.get(url)
    assert "1,250.50 THB" in html(page)
    assert_no_secrets(html(page))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "-5"}, "An amount must be more than zero."),
        ({"amount": "0"}, "An amount must be more than zero."),
        ({"amount": "1000.005"}, "THB amounts have at most 2 decimal places."),
        ({"amount": "1000.5", "currency": "MMK"}, "MMK amounts have at most 0 decimal places."),
        ({"amount": "ten"}, "ten is not an amount of money."),
        ({"currency": "EUR"}, "Select a valid choice."),
        ({"end_date": "2020-01-01"}, "A plan cannot end before it starts."),
        ({"currency": "USD"}, "pays in THB"),
    ],
)
def test_bad_plan_input_says_why_and_saves_nothing(login, officer, overrides, message):
    case = VerifiedCaseFactory()
    source = FundingSourceFactory()
    response = login(officer).post(
        reverse("payments:case_plans", args=[case.pk]), plan_form(source, **overrides)
    )
    assert response.status_code == 200
    assert message in html(response)
    assert not StipendPlan.objects.exists()


def test_the_service_refusal_is_shown_on_the_form(login, officer):
    case = VerifiedCaseFactory()
    source = FundingSourceFactory()
    StipendPlanFactory(case=case, funding_source=source)
    response = login(officer).post(
        reverse("payments:case_plans", args=[case.pk]), plan_form(source)
    )
    assert response.status_code == 200
    assert "already has a plan that has not ended" in html(response)
    assert StipendPlan.objects.filter(case=case).count() == 1


def test_case_manager_reads_the_plans_without_any_form(login, make_staff):
    plan = StipendPlanFactory(case=VerifiedCaseFactory(real_name=NAME))
    page = login(make_staff(Role.CASE_MANAGER)).get(
        reverse("payments:case_plans", args=[plan.case.pk])
    )
    assert page.status_code == 200
    text = html(page)
    assert "1,000.00 THB" in text
    main = text.split('<main id="main"', 1)[1]
    assert 'method="post"' not in main
    assert_no_secrets(text)


# --- approval, payouts, closing: bad input ------------------------------------------------------


@pytest.fixture
def draft_batch(officer, plans):
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    return batch


@pytest.fixture
def approved_batch(draft_batch, approver):
    return services.batch_approve(batch=draft_batch, actor=approver)


def test_approving_ones_own_batch_is_refused_with_the_reason(login, make_staff, plans):
    both = make_staff(Role.FINANCE_OFFICER, Role.FINANCE_APPROVER)
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=both)
    client = login(both)
    page = client.get(reverse("payments:batch_approve", args=[batch.pk]))
    assert "You prepared this batch" in html(page)
    response = client.post(
        reverse("payments:batch_approve", args=[batch.pk]), {"action": "approve"}
    )
    assert response.status_code == 200
    assert "A batch must be approved by someone other than its preparer." in messages_of(response)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT
    assert not LedgerEntry.objects.exists()


def test_rejecting_needs_a_reason(login, approver, draft_batch):
    client = login(approver)
    url = reverse("payments:batch_approve", args=[draft_batch.pk])
    response = client.post(url, {"action": "reject", "reason": " "})
    assert response.status_code == 200
    draft_batch.refresh_from_db()
    assert draft_batch.status == BatchStatus.DRAFT
    response = client.post(url, {"action": "reject", "reason": "Amounts look wrong"})
    assert response.status_code == 302
    draft_batch.refresh_from_db()
    assert (draft_batch.status, draft_batch.rejection_reason) == (
        BatchStatus.REJECTED,
        "Amounts look wrong",
    )


def test_paying_a_line_twice_is_refused_and_the_ledger_unchanged(login, officer, approved_batch):
    client = login(officer)
    line = Payment.objects.filter(batch=approved_batch).order_by("pk").first()
    url = reverse("payments:record", args=[approved_batch.pk])
    paid = {"lines": [line.pk], "outcome": "paid", "method": "cash", "acknowledged": "on"}
    assert client.post(url, paid).status_code == 302
    entries = LedgerEntry.objects.count()
    response = client.post(url, paid)
    assert response.status_code == 200
    assert f"The line for {line.case.code} is already paid." in html(response)
    assert LedgerEntry.objects.count() == entries
    assert_books_balance(approved_batch)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"outcome": "paid", "method": "cash"},
            "only against the recipient&#x27;s acknowledgement",
        ),
        ({"outcome": "paid", "method": "mobile_money", "reference": " "}, "Give the mobile money"),
        ({"outcome": "paid", "method": ""}, "Say how the money was paid."),
        ({"outcome": "paid", "method": "cheque"}, "Select a valid choice."),
        ({"outcome": "pending"}, "Select a valid choice."),
    ],
)
def test_a_payout_without_proof_changes_nothing(login, officer, approved_batch, fields, message):
    lines = list(Payment.objects.filter(batch=approved_batch))
    response = login(officer).post(
        reverse("payments:record", args=[approved_batch.pk]),
        {"lines": [line.pk for line in lines], **fields},
    )
    assert response.status_code == 200
    assert message in html(response)
    assert set(Payment.objects.filter(batch=approved_batch).values_list("status", flat=True)) == {
        PaymentStatus.PENDING
    }
    assert_books_balance(approved_batch)


def test_a_line_of_another_batch_cannot_be_recorded_here(login, officer, approved_batch):
    other = StipendPlanFactory(
        funding_source=FundingSourceFactory(name="Dollar fund", currency="USD"),
        currency="USD",
        amount="50.00",
    )
    services.disbursement_run(period=THIS_MONTH, actor=officer)
    foreign = Payment.objects.get(plan=other)
    response = login(officer).post(
        reverse("payments:record", args=[approved_batch.pk]),
        {"lines": [foreign.pk], "outcome": "unclaimed"},
    )
    assert "not in this batch" in html(response)
    foreign.refresh_from_db()
    assert foreign.status == PaymentStatus.PENDING


def test_closing_with_pending_lines_is_refused(login, officer, approved_batch):
    client = login(officer)
    response = client.post(reverse("payments:batch_close", args=[approved_batch.pk]))
    page = follow(client, response)
    assert any("still pending" in message for message in messages_of(page))
    approved_batch.refresh_from_db()
    assert approved_batch.status == BatchStatus.APPROVED


def test_failed_line_is_carried_forward_from_the_batch_page(login, officer, approved_batch):
    client = login(officer)
    line = Payment.objects.filter(batch=approved_batch).order_by("pk").first()
    client.post(
        reverse("payments:record", args=[approved_batch.pk]),
        {"lines": [line.pk], "outcome": "failed"},
    )
    detail = html(client.get(reverse("payments:batch_detail", args=[approved_batch.pk])))
    assert reverse("payments:carry_forward", args=[line.pk]) in detail
    response = client.post(reverse("payments:carry_forward", args=[line.pk]))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.carry_forward
    response = client.post(reverse("payments:carry_forward", args=[line.pk]))
    assert "already carried" in " ".join(messages_of(follow(client, response)))


def test_batch_pages_show_totals_by_status_and_no_names(login, officer, approver, approved_batch):
    client = login(officer)
    line = Payment.objects.filter(batch=approved_batch).order_by("pk").first()
    client.post(
        reverse("payments:record", args=[approved_batch.pk]),
        {"lines": [line.pk], "outcome": "unclaimed"},
    )
    listing = client.get(reverse("payments:batches"))
    (batch,) = listing.context["page"].object_list
    by_status = {total.status: (total.count, total.total) for total in batch.status_totals}
    assert by_status["unclaimed"] == (1, line.amount)
    assert by_status["pending"] == (3, approved_batch.total - line.amount)
    detail = client.get(reverse("payments:batch_detail", args=[approved_batch.pk]))
    text = html(detail)
    assert "Unclaimed" in text and officer.username in text
    assert_no_secrets(html(listing) + text)


# --- one-off payments ---------------------------------------------------------------------------


@pytest.fixture
def reward_case():
    case = VerifiedCaseFactory(real_name=NAME)
    RewardPolicy.objects.create(
        item_type="rifle",
        amount=Decimal("500000"),
        currency="MMK",
        validity=(datetime.date(2020, 1, 1), None),
    )
    ItemBrought.objects.create(
        case=case, category="weapon", item_type="rifle", count=2, recorded_by=case.intake_officer
    )
    return case


def test_a_one_off_form_sent_twice_proposes_one_payment(login, officer, reward_case):
    source = FundingSourceFactory(name="Kyat fund", currency="MMK")
    client = login(officer)
    url = f"{reverse('payments:one_off_new')}?case={reward_case.pk}&kind=reward"
    submission = client.get(url).context["form"]["submission"].value()
    data = {
        "kind": "reward",
        "amount": "1000000",
        "currency": "MMK",
        "funding_source": source.pk,
        "submission": submission,
    }
    first, again = client.post(url, data), client.post(url, data, follow=True)
    one_off = OneOffPayment.objects.get()
    assert first["Location"] == reverse("payments:one_off_detail", args=[one_off.pk])
    assert again.redirect_chain[-1][0] == first["Location"]
    assert "This payment was already proposed" in html(again)
    # A new form (a new submission) for the same reward is refused while the first is open.
    response = client.post(url, {**data, "submission": str(uuid.uuid4())})
    assert "already has a reward awaiting approval or payment" in html(response)
    assert OneOffPayment.objects.count() == 1


def test_reward_is_proposed_from_the_policy_then_approved_and_paid(
    login, officer, approver, make_staff, reward_case, settings
):
    settings.HAVEN_SECOND_APPROVER_ABOVE = {"MMK": 800000}
    source = FundingSourceFactory(name="Kyat fund", currency="MMK")
    client = login(officer)
    url = f"{reverse('payments:one_off_new')}?case={reward_case.pk}&kind=reward"
    page = client.get(url)
    form = page.context["form"]
    assert (form["amount"].value(), form["currency"].value()) == ("1000000", "MMK")
    text = html(page)
    assert "1,000,000 MMK" in text and "Rifle" in text
    assert_no_secrets(text)

    # A different amount needs a reason.
    data = {"kind": "reward", "amount": "900000", "currency": "MMK", "funding_source": source.pk}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Give a reason for paying a different amount" in html(response)
    assert not OneOffPayment.objects.exists()
    response = client.post(url, {**data, "adjustment_reason": "One rifle damaged"})
    one_off = OneOffPayment.objects.get()
    assert response["Location"] == reverse("payments:one_off_detail", args=[one_off.pk])
    assert (one_off.amount, one_off.proposed_amount, one_off.required_approvals) == (
        Decimal("900000"),
        Decimal("1000000"),
        2,
    )

    # The proposer cannot approve; two different approvers do.
    both = make_staff(Role.FINANCE_APPROVER)
    response = client.post(reverse("payments:one_off_approve", args=[one_off.pk]))
    assert response.status_code == 403
    approver_client = login(approver)
    approver_client.post(reverse("payments:one_off_approve", args=[one_off.pk]))
    response = approver_client.post(reverse("payments:one_off_approve", args=[one_off.pk]))
    assert "already approved" in " ".join(messages_of(follow(approver_client, response)))
    login(both).post(reverse("payments:one_off_approve", args=[one_off.pk]))
    one_off.refresh_from_db()
    assert one_off.status == OneOffStatus.APPROVED

    # Paid in cash: without the acknowledgement nothing is paid.
    pay_url = reverse("payments:one_off_pay", args=[one_off.pk])
    response = client.post(pay_url, {"method": "cash"})
    assert response.status_code == 200
    assert "acknowledgement" in html(response)
    response = client.post(pay_url, {"method": "cash", "acknowledged": "on"})
    assert response.status_code == 302
    one_off.refresh_from_db()
    assert one_off.status == OneOffStatus.PAID
    ledger = LedgerEntry.objects.filter(one_off=one_off)
    assert sum(ledger.values_list("amount", flat=True)) == Decimal("900000")

    detail = html(client.get(reverse("payments:one_off_detail", args=[one_off.pk])))
    assert "900,000 MMK" in detail and reward_case.code in detail
    assert_no_secrets(detail)


def test_one_off_is_rejected_with_a_reason(login, officer, approver):
    case = VerifiedCaseFactory()
    one_off = services.one_off_propose(
        case=case,
        actor=officer,
        kind="medical",
        amount="2500",
        currency="THB",
        funding_source=FundingSourceFactory(),
    )
    client = login(approver)
    url = reverse("payments:one_off_reject", args=[one_off.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    one_off.refresh_from_db()
    assert one_off.status == OneOffStatus.PROPOSED
    client.post(url, {"reason": "Receipt missing"})
    one_off.refresh_from_db()
    assert (one_off.status, one_off.rejection_reason) == (OneOffStatus.REJECTED, "Receipt missing")


def test_propose_without_a_case_asks_for_the_code_by_post(login, officer):
    case = VerifiedCaseFactory()
    client = login(officer)
    assert client.get(reverse("payments:one_off_new")).status_code == 200
    response = client.post(reverse("payments:one_off_new"), {"code": case.code.lower()})
    assert response["Location"] == f"{reverse('payments:one_off_new')}?case={case.pk}"
    response = client.post(reverse("payments:one_off_new"), {"code": "HV-1900-99999"})
    assert "No case has this code." in html(response)


def test_one_off_bad_amount_is_refused(login, officer):
    case = VerifiedCaseFactory()
    source = FundingSourceFactory()
    response = login(officer).post(
        f"{reverse('payments:one_off_new')}?case={case.pk}&kind=medical",
        {"kind": "medical", "amount": "12.345", "currency": "THB", "funding_source": source.pk},
    )
    assert "THB amounts have at most 2 decimal places." in html(response)
    assert not OneOffPayment.objects.exists()


# --- ledger and dashboard ------------------------------------------------------------------------


def test_ledger_filters_by_funding_source_currency_and_month(login, approver, approved_batch):
    other_source = FundingSourceFactory(name="Other fund")
    client = login(approver)
    url = reverse("payments:ledger")
    everything = client.get(url)
    (thb,) = everything.context["currency_totals"]
    assert thb.committed == approved_batch.total
    by_source = client.get(url, {"funding_source": other_source.pk})
    assert by_source.context["totals"] == []
    last_month = client.get(url, {"month": f"{THIS_MONTH - datetime.timedelta(days=1):%Y-%m}"})
    assert last_month.context["totals"] == []
    bad = client.get(url, {"month": "not-a-month", "currency": "EUR"})
    assert bad.status_code == 200 and bad.context["form"].errors
    assert re.search(r"filter was not understood", html(bad))


def test_dashboard_lists_open_batches_and_one_offs_awaiting(login, approver, officer, draft_batch):
    services.one_off_propose(
        case=VerifiedCaseFactory(),
        actor=officer,
        kind="relocation",
        amount="3000",
        currency="THB",
        funding_source=FundingSourceFactory(),
    )
    page = login(approver).get(reverse("payments:dashboard"))
    assert [batch.pk for batch in page.context["batches"]] == [draft_batch.pk]
    assert len(page.context["awaiting"]) == 1
    text = html(page)
    assert "Nothing has been paid in the last 12 months." in text
    assert_no_secrets(text)


def test_a_paused_plan_is_not_in_the_run(login, officer, plans, eager_celery):
    services.plan_set_status(plan=plans[0], actor=officer, status=PlanStatus.PAUSED)
    run_monthly_disbursement.delay(period=PERIOD, actor_id=officer.pk)
    assert not Payment.objects.filter(plan=plans[0]).exists()
    assert Payment.objects.filter(period=THIS_MONTH).count() == 3
    assert not AccessLog.objects.filter(action=AccessLog.Action.DENIED).exists()
