"""A one-off proposal sent twice at the same moment, by a double click or by two officers,
proposes one payment: the case's row is the proposals' lock, backed by the database."""

from __future__ import annotations

import uuid

import pytest

from accounts.roles import Role
from payments import services
from payments.models import OneOffPayment
from tests.factories import FundingSourceFactory
from tests.payments.test_services import reward_case
from tests.racing import race

# serialized_rollback restores the roles that the data migrations made, after each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def proposing(case, officer, source, submission):
    return lambda: services.one_off_propose(
        case=case,
        actor=officer,
        kind="reward",
        amount="1000000",
        currency="MMK",
        funding_source=source,
        submission=submission,
    )


def test_the_same_form_sent_twice_at_once_proposes_one_payment(make_staff):
    officer = make_staff(Role.FINANCE_OFFICER)
    case, source = reward_case(), FundingSourceFactory(currency="MMK")
    submission = uuid.uuid4()
    results, errors = race([proposing(case, officer, source, submission)] * 2)
    assert errors == []
    assert len({one_off.pk for one_off in results}) == 1
    assert OneOffPayment.objects.count() == 1


def test_two_officers_proposing_the_same_reward_at_once_make_one(make_staff):
    officers = [make_staff(Role.FINANCE_OFFICER) for _ in range(2)]
    case, source = reward_case(), FundingSourceFactory(currency="MMK")
    results, errors = race([proposing(case, officer, source, uuid.uuid4()) for officer in officers])
    assert len(results) == 1
    assert [type(error) for error in errors] == [services.PaymentError]
    assert OneOffPayment.objects.count() == 1
