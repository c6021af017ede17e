"""The payments admin: administrators edit funding sources and reward policies (never delete
them); plans, batches, lines, one-off payments, approvals and the ledger are read-only there;
lists are searched by case code and never show a name."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from payments import services
from payments.models import (
    DisbursementBatch,
    FundingSource,
    LedgerEntry,
    OneOffApproval,
    OneOffPayment,
    Payment,
    RewardPolicy,
    StipendPlan,
)
from tests.factories import FundingSourceFactory, StipendPlanFactory, VerifiedCaseFactory

pytestmark = pytest.mark.django_db

THIS_MONTH = timezone.localdate().replace(day=1)
NAME = "Kyaw Zin Htet"


@pytest.fixture
def administrator_client(login, make_staff):
    return login(make_staff(Role.ADMINISTRATOR, is_staff=True))


@pytest.fixture
def superuser_client(login, make_staff):
    """Even a superuser cannot change money through the admin."""
    return login(make_staff(Role.ADMINISTRATOR, is_staff=True, is_superuser=True))


@pytest.fixture
def money(make_staff):
    """One of everything: a plan in an approved batch with a paid line, an approved one-off."""
    officer, approver = make_staff(Role.FINANCE_OFFICER), make_staff(Role.FINANCE_APPROVER)
    plan = StipendPlanFactory(case=VerifiedCaseFactory(real_name=NAME))
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    batch = services.batch_approve(batch=batch, actor=approver)
    line = Payment.objects.get(batch=batch)
    services.payments_record(
        payments=[line], actor=officer, outcome="paid", method="cash", acknowledged=True
    )
    one_off = services.one_off_propose(
        case=plan.case,
        actor=officer,
        kind="medical",
        amount="2500",
        currency="THB",
        funding_source=plan.funding_source,
    )
    services.one_off_approve(one_off=one_off, actor=approver)
    return {
        "plan": plan,
        "batch": batch,
        "line": line,
        "one_off": one_off,
        "approval": OneOffApproval.objects.get(one_off=one_off),
        "entry": LedgerEntry.objects.filter(payment=line).first(),
    }


def admin_url(obj, action: str) -> str:
    return reverse(f"admin:payments_{obj._meta.model_name}_{action}", args=[obj.pk])


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_administrator_adds_and_edits_a_funding_source_but_not_its_currency(
    administrator_client,
):
    response = administrator_client.post(
        reverse("admin:payments_fundingsource_add"),
        {
            "name": "Fictional Border Fund",
            "currency": "THB",
            "budget_per_period": "",
            "active": "on",
        },
    )
    assert response.status_code == 302
    source = FundingSource.objects.get(name="Fictional Border Fund")
    page = page_of(administrator_client.get(admin_url(source, "change")))
    assert 'name="currency"' not in page
    administrator_client.post(
        admin_url(source, "change"),
        {"name": "Fictional Border Fund", "budget_per_period": "50000.00", "currency": "USD"},
    )
    source.refresh_from_db()
    assert (source.budget_per_period, source.currency, source.active) == (
        Decimal("50000.00"),
        "THB",
        False,
    )


def test_administrator_adds_a_reward_policy_and_an_overlap_is_a_form_error(administrator_client):
    url = reverse("admin:payments_rewardpolicy_add")
    data = {
        "item_type": "rifle",
        "amount": "500000",
        "currency": "MMK",
        "validity_0": "2020-01-01",
        "validity_1": "",
    }
    assert administrator_client.post(url, data).status_code == 302
    policy = RewardPolicy.objects.get()
    assert policy.amount == Decimal("500000")
    response = administrator_client.post(url, {**data, "validity_0": "2024-01-01"})
    assert response.status_code == 200  # the form again, with the overlap explained
    assert RewardPolicy.objects.count() == 1


def test_funding_sources_and_reward_policies_are_never_deleted(administrator_client):
    source = FundingSourceFactory()
    policy = RewardPolicy.objects.create(
        item_type="rifle",
        amount=Decimal("500000"),
        currency="MMK",
        validity=(datetime.date(2020, 1, 1), None),
    )
    for obj in (source, policy):
        response = administrator_client.post(admin_url(obj, "delete"), {"post": "yes"})
        assert response.status_code == 403
    assert FundingSource.objects.filter(pk=source.pk).exists()
    assert RewardPolicy.objects.filter(pk=policy.pk).exists()


@pytest.mark.parametrize("name", ["plan", "batch", "line", "one_off", "approval", "entry"])
def test_money_records_are_read_only(superuser_client, money, name):
    obj = money[name]
    model = type(obj)
    before = model.objects.filter(pk=obj.pk).values().get()
    page = page_of(superuser_client.get(admin_url(obj, "change")))
    assert 'name="_save"' not in page
    assert NAME not in page and "hv1:" not in page
    assert superuser_client.post(admin_url(obj, "change"), {"_save": "Save"}).status_code == 403
    add = reverse(f"admin:payments_{model._meta.model_name}_add")
    assert superuser_client.get(add).status_code == 403
    assert superuser_client.post(admin_url(obj, "delete"), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).values().get() == before


@pytest.mark.parametrize(
    ("model", "count"),
    [
        (StipendPlan, 1),
        (DisbursementBatch, 1),
        (Payment, 1),
        (OneOffPayment, 1),
        (OneOffApproval, 1),
        (LedgerEntry, 4),  # committed, committed back, disbursed; the one-off committed
    ],
)
def test_lists_are_searched_by_case_code_and_show_no_name(superuser_client, money, model, count):
    code = money["plan"].case.code
    url = reverse(f"admin:payments_{model._meta.model_name}_changelist")
    found = superuser_client.get(url, {"q": code})
    page = page_of(found)
    assert found.context["cl"].result_count == count
    assert NAME not in page and "hv1:" not in page
    nothing = superuser_client.get(url, {"q": "HV-1900-00000"})
    assert nothing.context["cl"].result_count == 0


def test_administrator_role_alone_sees_only_what_it_edits(administrator_client, money):
    """The administrator role holds no view permission on plans, batches, lines or the ledger."""
    for name in ("plan", "batch", "line", "entry"):
        assert administrator_client.get(admin_url(money[name], "change")).status_code == 403
