"""Money rules: who is paid what each month, four-eyes approval, payouts with proof, closing,
one-off payments with one or two approvers, and a ledger that always agrees with the batches."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessLog
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
)
from tests.factories import (
    CaseFactory,
    FundingSourceFactory,
    StipendPlanFactory,
    VerifiedCaseFactory,
)

pytestmark = pytest.mark.django_db

THIS_MONTH = timezone.localdate().replace(day=1)
LAST_MONTH = (THIS_MONTH - datetime.timedelta(days=1)).replace(day=1)
NOVEMBER = datetime.date(2026, 11, 1)  # 30 days


@pytest.fixture
def officer(make_staff):
    return make_staff(Role.FINANCE_OFFICER)


@pytest.fixture
def approver(make_staff):
    return make_staff(Role.FINANCE_APPROVER)


@pytest.fixture
def second_approver(make_staff):
    return make_staff(Role.FINANCE_APPROVER)


def assert_books_balance(batch: DisbursementBatch) -> None:
    """Batch total = sum of its lines; once approved, = sum of its ledger entries too."""
    batch.refresh_from_db()
    assert batch.total == services.batch_lines_total(batch)
    if batch.status in (BatchStatus.APPROVED, BatchStatus.DISBURSING, BatchStatus.CLOSED):
        assert services.batch_ledger_total(batch) == batch.total
    else:
        assert services.batch_ledger_total(batch) == 0


def run(period=NOVEMBER, actor=None):
    return {
        batch.currency: batch for batch in services.disbursement_run(period=period, actor=actor)
    }


# --- eligibility -------------------------------------------------------------------------------


def test_month_pays_each_active_plan_of_a_verified_case_once():
    full = StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1), status=PlanStatus.PAUSED)
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1), case=CaseFactory())  # not verified
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2026, 10, 31))
    StipendPlanFactory(start_date=datetime.date(2026, 12, 1))  # starts later
    batch = run()["THB"]
    lines = list(Payment.objects.filter(batch=batch))
    assert [(line.plan, line.amount) for line in lines] == [(full, Decimal("1000.00"))]
    assert (batch.total, batch.line_count, batch.status) == (
        Decimal("1000.00"),
        1,
        BatchStatus.DRAFT,
    )
    assert_books_balance(batch)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (datetime.date(2026, 11, 16), None, Decimal("500.00")),  # 15 of 30 days
        (datetime.date(2026, 1, 1), datetime.date(2026, 11, 10), Decimal("333.33")),  # 10 of 30
        (datetime.date(2026, 11, 30), None, Decimal("33.33")),  # 1 of 30
        (datetime.date(2026, 11, 11), datetime.date(2026, 11, 20), Decimal("333.33")),
    ],
)
def test_partial_months_are_paid_pro_rata(start, end, expected):
    plan = StipendPlanFactory(start_date=start, end_date=end)
    run()
    assert Payment.objects.get(plan=plan).amount == expected
    assert services.plan_amount_for(plan, NOVEMBER) == expected


def test_kyat_are_rounded_to_whole_kyat():
    source = FundingSourceFactory(name="Kyat fund", currency="MMK")
    plan = StipendPlanFactory(
        amount="100000",
        currency="MMK",
        funding_source=source,
        start_date=datetime.date(2026, 11, 2),
    )
    batches = run()
    assert Payment.objects.get(plan=plan).amount == Decimal("96667")  # 29/30 of 100,000, half up
    assert set(batches) == {"MMK"}


def test_running_the_month_again_pays_nobody_twice_and_adds_the_new_plans():
    StipendPlanFactory.create_batch(3, start_date=datetime.date(2026, 1, 1))
    first = run()["THB"]
    late = StipendPlanFactory(start_date=datetime.date(2026, 11, 1))
    second = run()["THB"]
    assert first.pk == second.pk
    assert Payment.objects.filter(batch=first).count() == 4
    assert Payment.objects.filter(plan=late).count() == 1
    second.refresh_from_db()
    assert second.total == Decimal("4000.00")


def test_database_refuses_a_second_payment_for_a_plan_and_month():
    plan = StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    batch = run()["THB"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            batch=batch,
            plan=plan,
            case=plan.case,
            period=NOVEMBER,
            amount=1,
            currency="THB",
            funding_source=plan.funding_source,
        )


# --- approval ----------------------------------------------------------------------------------


def test_approval_by_someone_else_commits_the_money(officer, approver):
    StipendPlanFactory.create_batch(2, start_date=datetime.date(2026, 1, 1))
    batch = run(actor=officer)["THB"]
    assert batch.prepared_by == officer
    batch = services.batch_approve(batch=batch, actor=approver)
    assert (batch.status, batch.approved_by) == (BatchStatus.APPROVED, approver)
    assert_books_balance(batch)


def test_preparer_cannot_approve_own_batch(make_staff):
    officer_and_approver = make_staff(Role.FINANCE_OFFICER, Role.FINANCE_APPROVER)
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    batch = run(actor=officer_and_approver)["THB"]
    with pytest.raises(services.PaymentError, match="someone other than its preparer"):
        services.batch_approve(batch=batch, actor=officer_and_approver)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT
    assert_books_balance(batch)


def test_whoever_ran_the_month_again_cannot_approve_what_their_run_added(
    make_staff, approver, login
):
    """Found in review: the scheduler made the draft (no preparer); someone holding both roles
    added a plan, ran the month again, and approved the batch their run had filled."""
    both = make_staff(Role.FINANCE_OFFICER, Role.FINANCE_APPROVER)
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    batch = run(actor=None)["THB"]
    assert batch.prepared_by is None
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1), amount="90000.00")
    run(actor=both)
    with pytest.raises(services.PaymentError, match="someone other than its preparer"):
        services.batch_approve(batch=batch, actor=both)
    with pytest.raises(services.PaymentError, match="someone other than its preparer"):
        services.batch_reject(batch=batch, actor=both, reason="Looks wrong")
    # The approval page says so before they try.
    page = login(both).get(reverse("payments:batch_approve", args=[batch.pk]))
    assert "You prepared this batch" in page.content.decode()
    # Another approver may; and a run that added nothing to this batch makes no preparer.
    other = make_staff(Role.FINANCE_OFFICER, Role.FINANCE_APPROVER)
    run(actor=other)
    assert services.batch_approve(batch=batch, actor=other).status == BatchStatus.APPROVED


def test_database_refuses_approval_by_the_preparer(officer, approver):
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    batch = run(actor=officer)["THB"]
    with pytest.raises(IntegrityError), transaction.atomic():
        DisbursementBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.APPROVED, approved_by=officer, approved_at=timezone.now()
        )


def test_officer_cannot_approve_and_the_attempt_is_logged(officer):
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    batch = run()["THB"]
    with pytest.raises(PermissionDenied):
        services.batch_approve(batch=batch, actor=officer)
    entry = AccessLog.objects.get(action=AccessLog.Action.DENIED)
    assert entry.actor == officer and entry.detail["action"] == "batch.approve"


def test_approved_lines_cannot_change_even_in_sql(approver):
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    batch = services.batch_approve(batch=run()["THB"], actor=approver)
    with pytest.raises(DatabaseError, match="cannot change"), transaction.atomic():
        Payment.objects.filter(batch=batch).update(amount=Decimal("5000.00"))
    assert services.batch_lines_total(batch) == Decimal("1000.00")


def test_rejected_batch_cancels_its_lines_and_the_month_can_be_run_again(officer, approver):
    plan = StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    batch = run(actor=officer)["THB"]
    with pytest.raises(services.PaymentError, match="reason"):
        services.batch_reject(batch=batch, actor=approver, reason=" ")
    services.batch_reject(batch=batch, actor=approver, reason="Wrong amounts")
    assert Payment.objects.get(batch=batch).status == PaymentStatus.CANCELLED
    again = run(actor=officer)["THB"]
    assert again.pk != batch.pk
    assert Payment.objects.filter(plan=plan).exclude(status=PaymentStatus.CANCELLED).count() == 1


# --- payouts and closing --------------------------------------------------------------------------


def approved_batch(approver, plans=3):
    StipendPlanFactory.create_batch(plans, start_date=datetime.date(2026, 1, 1))
    return services.batch_approve(batch=run()["THB"], actor=approver)


def test_payouts_with_proof_then_close(officer, approver):
    batch = approved_batch(approver)
    cash, mobile, missing = list(Payment.objects.filter(batch=batch).order_by("pk"))
    services.payments_record(
        payments=[cash], actor=officer, outcome="paid", method="cash", acknowledged=True
    )
    assert_books_balance(batch)
    services.payments_record(
        payments=[mobile],
        actor=officer,
        outcome="paid",
        method="mobile_money",
        reference="WAVE-88812",
    )
    with pytest.raises(services.PaymentError, match="still pending"):
        services.batch_close(batch=batch, actor=officer)
    services.payments_record(payments=[missing], actor=officer, outcome="unclaimed")
    batch = services.batch_close(batch=batch, actor=officer)
    assert batch.status == BatchStatus.CLOSED
    assert_books_balance(batch)
    disbursed = LedgerEntry.objects.filter(batch=batch, account="disbursed").values_list(
        "amount", flat=True
    )
    assert sum(disbursed) == Decimal("2000.00")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"outcome": "paid", "method": "cash", "acknowledged": False}, "acknowledgement"),
        ({"outcome": "paid", "method": "bank_transfer", "reference": " "}, "reference"),
        ({"outcome": "paid", "method": "cheque"}, "how the money was paid"),
        ({"outcome": "pending"}, "paid, failed or unclaimed"),
    ],
)
def test_payouts_without_proof_are_refused_and_change_nothing(officer, approver, fields, message):
    batch = approved_batch(approver, plans=1)
    line = Payment.objects.get(batch=batch)
    with pytest.raises(services.PaymentError, match=message):
        services.payments_record(payments=[line], actor=officer, **fields)
    line.refresh_from_db()
    assert line.status == PaymentStatus.PENDING
    assert_books_balance(batch)


def test_a_line_cannot_be_paid_twice(officer, approver):
    batch = approved_batch(approver, plans=1)
    line = Payment.objects.get(batch=batch)
    services.payments_record(
        payments=[line], actor=officer, outcome="paid", method="cash", acknowledged=True
    )
    with pytest.raises(services.PaymentError, match="already paid"):
        services.payments_record(
            payments=[line], actor=officer, outcome="paid", method="cash", acknowledged=True
        )
    assert_books_balance(batch)


def test_payouts_only_on_an_approved_batch(officer):
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    batch = run()["THB"]
    with pytest.raises(services.PaymentError, match="approved batch"):
        services.payments_record(
            payments=list(batch.lines.all()), actor=officer, outcome="unclaimed"
        )


def test_bulk_recording_is_all_or_nothing(officer, approver):
    batch = approved_batch(approver)
    lines = list(Payment.objects.filter(batch=batch))
    services.payments_record(payments=lines[:1], actor=officer, outcome="failed")
    with pytest.raises(services.PaymentError, match="already failed"):
        services.payments_record(payments=lines, actor=officer, outcome="unclaimed")
    assert Payment.objects.filter(batch=batch, status=PaymentStatus.PENDING).count() == 2
    assert_books_balance(batch)


def test_failed_line_is_carried_to_next_month_only_when_the_officer_says_so(officer, approver):
    october, november = datetime.date(2026, 10, 1), NOVEMBER
    carried_plan = StipendPlanFactory(
        start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2026, 10, 31)
    )
    dropped_plan = StipendPlanFactory(
        start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2026, 10, 31)
    )
    batch = services.batch_approve(batch=run(period=october)["THB"], actor=approver)
    carried, dropped = (
        Payment.objects.get(batch=batch, plan=plan) for plan in (carried_plan, dropped_plan)
    )
    services.payments_record(payments=[carried, dropped], actor=officer, outcome="failed")
    services.payment_carry_forward(payment=carried, actor=officer)
    with pytest.raises(services.PaymentError):
        services.payment_carry_forward(payment=carried, actor=officer)
    next_batch = run(period=november)["THB"]
    assert list(
        Payment.objects.filter(batch=next_batch).values_list("carried_from", flat=True)
    ) == [carried.pk]
    run(period=november)
    assert Payment.objects.filter(carried_from=carried).count() == 1
    assert not Payment.objects.filter(carried_from=dropped).exists()


# --- ledger -------------------------------------------------------------------------------------


def test_ledger_is_append_only_in_the_database(approver):
    approved_batch(approver, plans=1)
    for statement in (
        "UPDATE payments_ledgerentry SET amount = 1",
        "DELETE FROM payments_ledgerentry",
    ):
        with (
            pytest.raises(DatabaseError, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)


# --- plans --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("-5", "THB", "more than zero"),
        ("0", "THB", "more than zero"),
        ("10.005", "THB", "at most 2 decimal"),
        ("1000.5", "MMK", "at most 0 decimal"),
        ("100", "EUR", "Unknown currency"),
        ("abc", "THB", "not an amount"),
        ("NaN", "THB", "not an amount"),
    ],
)
def test_bad_plan_amounts_are_refused(officer, amount, currency, message):
    source = FundingSourceFactory(
        name=f"Fund {currency}", currency=currency if currency != "EUR" else "THB"
    )
    with pytest.raises(services.PaymentError, match=message):
        services.plan_create(
            case=VerifiedCaseFactory(),
            actor=officer,
            amount=amount,
            currency=currency,
            start_date=THIS_MONTH,
            funding_source=source,
        )


def test_plan_rules(officer):
    case = VerifiedCaseFactory()
    source = FundingSourceFactory()
    with pytest.raises(services.PaymentError, match="end before it starts"):
        services.plan_create(
            case=case,
            actor=officer,
            start_date=THIS_MONTH,
            end_date=LAST_MONTH,
            funding_source=source,
        )
    with pytest.raises(services.PaymentError, match="verified"):
        services.plan_create(
            case=CaseFactory(), actor=officer, start_date=THIS_MONTH, funding_source=source
        )
    plan = services.plan_create(
        case=case, actor=officer, start_date=THIS_MONTH, funding_source=source
    )
    assert plan.amount == Decimal("1000") and plan.currency == "THB"
    with pytest.raises(services.PaymentError, match="already has a plan"):
        services.plan_create(case=case, actor=officer, start_date=THIS_MONTH, funding_source=source)
    services.plan_set_status(plan=plan, actor=officer, status=PlanStatus.PAUSED)
    services.plan_set_status(plan=plan, actor=officer, status=PlanStatus.ENDED)
    with pytest.raises(services.PaymentError):
        services.plan_set_status(plan=plan, actor=officer, status=PlanStatus.ACTIVE)


# --- one-off payments ---------------------------------------------------------------------------


def reward_case():
    from cases.models import ItemBrought

    case = VerifiedCaseFactory()
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


def test_reward_is_proposed_from_the_policy_and_needs_two_approvers_above_the_threshold(
    officer, approver, second_approver, settings
):
    settings.HAVEN_SECOND_APPROVER_ABOVE = {"MMK": 800000}
    case = reward_case()
    assert services.reward_proposal(case=case)[:2] == (Decimal("1000000"), "MMK")
    source = FundingSourceFactory(name="Kyat fund", currency="MMK")
    one_off = services.one_off_propose(
        case=case,
        actor=officer,
        kind="reward",
        amount="1000000",
        currency="MMK",
        funding_source=source,
    )
    assert one_off.required_approvals == 2
    one_off = services.one_off_approve(one_off=one_off, actor=approver)
    assert one_off.status == OneOffStatus.PROPOSED
    with pytest.raises(services.PaymentError, match="already approved"):
        services.one_off_approve(one_off=one_off, actor=approver)
    one_off = services.one_off_approve(one_off=one_off, actor=second_approver)
    assert one_off.status == OneOffStatus.APPROVED
    payment = services.one_off_pay(one_off=one_off, actor=officer, method="cash", acknowledged=True)
    assert payment.amount == Decimal("1000000")
    ledger = LedgerEntry.objects.filter(one_off=one_off)
    assert sum(ledger.values_list("amount", flat=True)) == Decimal("1000000")


def test_adjusted_reward_needs_a_reason_and_small_amounts_one_approver(officer, approver, settings):
    settings.HAVEN_SECOND_APPROVER_ABOVE = {"MMK": 2000000}
    case = reward_case()
    source = FundingSourceFactory(name="Kyat fund", currency="MMK")
    with pytest.raises(services.PaymentError, match="reason"):
        services.one_off_propose(
            case=case,
            actor=officer,
            kind="reward",
            amount="900000",
            currency="MMK",
            funding_source=source,
        )
    one_off = services.one_off_propose(
        case=case,
        actor=officer,
        kind="reward",
        amount="900000",
        currency="MMK",
        funding_source=source,
        adjustment_reason="One rifle damaged",
    )
    assert one_off.required_approvals == 1
    assert services.one_off_approve(one_off=one_off, actor=approver).status == OneOffStatus.APPROVED


def test_one_reward_at_a_time_awaits_approval_or_payment(officer, approver):
    case = reward_case()
    source = FundingSourceFactory(name="Kyat fund", currency="MMK")
    propose = {
        "case": case,
        "actor": officer,
        "kind": "reward",
        "amount": "1000000",
        "currency": "MMK",
        "funding_source": source,
    }
    first = services.one_off_propose(**propose)
    with pytest.raises(services.PaymentError, match="already has a reward awaiting"):
        services.one_off_propose(**propose)
    # The database refuses it too, whatever writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        OneOffPayment.objects.create(
            case=case,
            kind="reward",
            amount=1,
            currency="MMK",
            funding_source=source,
            proposed_by=officer,
            proposed_amount=1,
        )
    services.one_off_reject(one_off=first, actor=approver, reason="Counted twice")
    assert services.one_off_propose(**propose).status == OneOffStatus.PROPOSED


def test_an_approver_of_a_one_off_does_not_also_pay_it(officer, make_staff):
    both = make_staff(Role.FINANCE_OFFICER, Role.FINANCE_APPROVER)
    one_off = services.one_off_propose(
        case=VerifiedCaseFactory(),
        actor=officer,
        kind="relocation",
        amount="3000",
        currency="THB",
        funding_source=FundingSourceFactory(),
    )
    one_off = services.one_off_approve(one_off=one_off, actor=both)
    with pytest.raises(services.PaymentError, match="cannot also pay it out"):
        services.one_off_pay(one_off=one_off, actor=both, method="cash", acknowledged=True)
    one_off.refresh_from_db()
    assert one_off.status == OneOffStatus.APPROVED
    payment = services.one_off_pay(one_off=one_off, actor=officer, method="cash", acknowledged=True)
    assert payment.status == "paid"


def test_proposer_cannot_approve_their_own_one_off(make_staff):
    both = make_staff(Role.FINANCE_OFFICER, Role.FINANCE_APPROVER)
    source = FundingSourceFactory()
    one_off = services.one_off_propose(
        case=VerifiedCaseFactory(),
        actor=both,
        kind="medical",
        amount="2500",
        currency="THB",
        funding_source=source,
    )
    with pytest.raises(services.PaymentError, match="other than its proposer"):
        services.one_off_approve(one_off=one_off, actor=both)


def test_approvers_are_told_of_a_one_off_awaiting_them_without_identity(
    officer, approver, django_capture_on_commit_callbacks, settings, mailoutbox
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        approver.email = "approver@haven.example"
        approver.save(update_fields=["email"])
        case = VerifiedCaseFactory(real_name="Ko Fictional Secret", service_number="BA-424242")
        with django_capture_on_commit_callbacks(execute=True):
            services.one_off_propose(
                case=case,
                actor=officer,
                kind="medical",
                amount="2500",
                currency="THB",
                funding_source=FundingSourceFactory(),
            )
    finally:
        app.conf.task_always_eager = False
    assert [message.to for message in mailoutbox] == [["approver@haven.example"]]
    body = mailoutbox[0].subject + mailoutbox[0].body
    assert case.code in body and "2500" in body
    assert "Fictional Secret" not in body and "424242" not in body


def test_an_exact_half_satang_rounds_up_in_the_run_as_in_the_rule():
    plan = StipendPlanFactory(amount="1000.05", start_date=datetime.date(2026, 11, 30))
    run()
    assert Payment.objects.get(plan=plan).amount == Decimal("33.34")  # 1000.05 × 1/30 = 33.335
    assert services.plan_amount_for(plan, NOVEMBER) == Decimal("33.34")
