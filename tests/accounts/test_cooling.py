"""The cooling period: a role granted, or an account made, less than HAVEN_ROLE_COOLING_HOURS
ago cannot be either eye of any four-eyes step: a batch (preparing and approving), a one-off
payment (proposing and approving), an erasure (asking and approving), a case decision (proposing
and deciding), a request about staff (asking and approving)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import staff_requests
from accounts.cooling import CoolingPeriod, require_settled
from accounts.models import RoleGrant, StaffRequest
from accounts.roles import Role
from cases import services as case_services
from cases.choices import Status
from cases.models import ErasureRequest
from cases.services import erasure
from payments import services as payment_services
from payments.models import BatchStatus
from tests.accounts.test_staff_requests import fresh_code
from tests.factories import (
    CaseFactory,
    FundingSourceFactory,
    StipendPlanFactory,
    VerifiedCaseFactory,
    assign_verifier,
)

pytestmark = pytest.mark.django_db

NOVEMBER = datetime.date(2026, 11, 1)


@pytest.fixture
def newly(make_staff):
    """Someone whose `role` was granted just now (an old account), or who is new altogether."""

    def make(role: str, *, new_account: bool = False, **fields):
        user = make_staff(role, **fields)
        if new_account:
            user.date_joined = timezone.now()
            user.save(update_fields=["date_joined"])
        RoleGrant.objects.filter(user=user).update(granted_at=timezone.now())
        return user

    return make


def test_a_role_counts_once_the_cooling_period_has_passed(newly, settings):
    settings.HAVEN_ROLE_COOLING_HOURS = 24
    approver = newly(Role.FINANCE_APPROVER)
    with pytest.raises(CoolingPeriod, match="cannot take part in a four-eyes step"):
        require_settled(approver, "payments.approve_batch")
    RoleGrant.objects.filter(user=approver).update(
        granted_at=timezone.now() - datetime.timedelta(hours=25)
    )
    require_settled(approver, "payments.approve_batch")


def test_a_new_account_is_cooling_whatever_its_roles_say(make_staff):
    approver = make_staff(Role.FINANCE_APPROVER)
    approver.date_joined = timezone.now()
    approver.save(update_fields=["date_joined"])
    with pytest.raises(CoolingPeriod):
        require_settled(approver, "payments.approve_batch")


def test_a_batch_is_neither_prepared_nor_approved_by_a_cooling_role(make_staff, newly):
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    with pytest.raises(CoolingPeriod):
        payment_services.disbursement_run(period=NOVEMBER, actor=newly(Role.FINANCE_OFFICER))
    batch = payment_services.disbursement_run(
        period=NOVEMBER, actor=make_staff(Role.FINANCE_OFFICER)
    )[0]

    with pytest.raises(CoolingPeriod):
        payment_services.batch_approve(batch=batch, actor=newly(Role.FINANCE_APPROVER))

    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT


def test_a_one_off_is_neither_proposed_nor_approved_by_a_cooling_role(make_staff, newly):
    def propose(actor):
        return payment_services.one_off_propose(
            case=VerifiedCaseFactory(),
            actor=actor,
            kind="medical",
            amount="2500",
            currency="THB",
            funding_source=FundingSourceFactory(),
        )

    with pytest.raises(CoolingPeriod):
        propose(newly(Role.FINANCE_OFFICER, new_account=True))
    one_off = propose(make_staff(Role.FINANCE_OFFICER))

    with pytest.raises(CoolingPeriod):
        payment_services.one_off_approve(one_off=one_off, actor=newly(Role.FINANCE_APPROVER))
    assert not one_off.approvals.exists()


def test_an_erasure_is_neither_asked_for_nor_approved_by_a_cooling_role(make_staff, newly):
    case = VerifiedCaseFactory()
    with pytest.raises(CoolingPeriod):
        erasure.erasure_request(
            case=case,
            actor=newly(Role.CASE_MANAGER),
            reason="person_request",
            confirmation=case.code,
        )
    pending = erasure.erasure_request(
        case=case,
        actor=make_staff(Role.CASE_MANAGER),
        reason="person_request",
        confirmation=case.code,
    )
    for approver in (newly(Role.CASE_MANAGER), newly(Role.ADMINISTRATOR, is_staff=True)):
        with pytest.raises(CoolingPeriod):
            erasure.erasure_approve(erasure=pending, actor=approver, confirmation=case.code)
    assert ErasureRequest.objects.get(pk=pending.pk).first_approved_by is None


def test_a_case_is_neither_proposed_nor_decided_by_a_cooling_role(make_staff, newly):
    verifier = newly(Role.VERIFIER)
    case = CaseFactory()
    case = case_services.case_start_verification(
        case=assign_verifier(case, verifier), actor=verifier
    )
    with pytest.raises(CoolingPeriod):
        case_services.case_propose_decision(
            case=case, actor=verifier, decision=Status.REJECTED, reason="Not who they say"
        )
    RoleGrant.objects.filter(user=verifier).update(
        granted_at=timezone.now() - datetime.timedelta(days=2)
    )
    case = case_services.case_propose_decision(
        case=case, actor=verifier, decision=Status.REJECTED, reason="Not who they say"
    )

    with pytest.raises(CoolingPeriod):
        case_services.case_decide(
            case=case, actor=newly(Role.CASE_MANAGER), decision=Status.REJECTED, reason="Agreed"
        )
    case.refresh_from_db()
    assert case.status == Status.VERIFYING


def test_a_request_about_staff_is_neither_asked_nor_approved_by_a_cooling_administrator(
    make_staff, newly
):
    officer = make_staff(Role.VERIFIER)
    role = Group.objects.get(name=Role.CASE_MANAGER)
    with pytest.raises(CoolingPeriod):
        staff_requests.staff_request_create(
            actor=newly(Role.ADMINISTRATOR, is_staff=True),
            kind=StaffRequest.Kind.GRANT_ROLE,
            user=officer,
            role=role,
            reason="Promotion",
        )
    pending = staff_requests.staff_request_create(
        actor=make_staff(Role.ADMINISTRATOR, is_staff=True),
        kind=StaffRequest.Kind.GRANT_ROLE,
        user=officer,
        role=role,
        reason="Promotion",
    )
    fresh_admin = newly(Role.ADMINISTRATOR, is_staff=True)

    with pytest.raises(CoolingPeriod):
        staff_requests.staff_request_approve(
            staff_request=pending, actor=fresh_admin, code=fresh_code(fresh_admin)
        )
    assert not officer.groups.filter(pk=role.pk).exists()


def test_a_role_approved_just_now_cannot_approve_a_batch_at_once(make_staff):
    """The whole attack: two administrators make a finance approver; it must wait a day."""
    requester, approver_admin = (make_staff(Role.ADMINISTRATOR, is_staff=True) for _ in range(2))
    friend = make_staff(Role.INTAKE_OFFICER)
    pending = staff_requests.staff_request_create(
        actor=requester,
        kind=StaffRequest.Kind.GRANT_ROLE,
        user=friend,
        role=Group.objects.get(name=Role.FINANCE_APPROVER),
        reason="Cover",
    )
    staff_requests.staff_request_approve(
        staff_request=pending, actor=approver_admin, code=fresh_code(approver_admin)
    )
    StipendPlanFactory(start_date=datetime.date(2026, 1, 1))
    batch = payment_services.disbursement_run(
        period=NOVEMBER, actor=make_staff(Role.FINANCE_OFFICER)
    )[0]

    with pytest.raises(CoolingPeriod):
        payment_services.batch_approve(batch=batch, actor=friend)
