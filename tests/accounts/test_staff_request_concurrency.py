"""The requests' four eyes under a race: two administrators approving the same request at the
same moment grant the role once, and the second is refused."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError
from django.utils import timezone

from accounts import staff_requests
from accounts.models import RoleGrant, StaffRequest, User
from accounts.roles import Role
from audit.models import AccessLog
from tests.accounts.test_staff_requests import fresh_code
from tests.racing import race

# serialized_rollback restores the roles that the data migrations made, after each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_two_approvals_at_once_carry_the_request_out_once(make_staff):
    requester, first, second = (make_staff(Role.ADMINISTRATOR, is_staff=True) for _ in range(3))
    officer = make_staff(Role.VERIFIER)
    pending = staff_requests.staff_request_create(
        actor=requester,
        kind=StaffRequest.Kind.GRANT_ROLE,
        user=officer,
        role=Group.objects.get(name=Role.CASE_MANAGER),
        reason="Promotion",
    )
    codes = {approver.pk: fresh_code(approver) for approver in (first, second)}

    def approval(approver):
        return lambda: staff_requests.staff_request_approve(
            staff_request=pending, actor=approver, code=codes[approver.pk]
        )

    results, errors = race([approval(first), approval(second)])

    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], staff_requests.StaffRequestError)
    pending.refresh_from_db()
    assert pending.status == StaffRequest.Status.APPROVED
    assert pending.decided_by == results[0].staff_request.decided_by
    assert RoleGrant.objects.filter(user=officer, role__name=Role.CASE_MANAGER).count() == 1
    assert AccessLog.objects.filter(action=AccessLog.Action.STAFF_APPROVED).count() == 1


def test_two_requests_for_one_name_in_two_cases_approved_at_once_make_no_second_account(
    make_staff,
):
    """Suspected in review: "alice" and "Alice", both waiting and approved at the same moment,
    could make two accounts or fail with a 500. Each approval is refused with a message or
    carried out, never both accounts; and the database knows a name in any case once."""
    requesters = [make_staff(Role.ADMINISTRATOR, is_staff=True) for _ in range(2)]
    approvers = [make_staff(Role.ADMINISTRATOR, is_staff=True) for _ in range(2)]
    pending = [
        StaffRequest.objects.create(
            kind=StaffRequest.Kind.CREATE_ACCOUNT,
            username=name,
            requested_by=requester,
            reason="New verifier",
            expires_at=timezone.now() + datetime.timedelta(days=1),
        )
        for name, requester in zip(("alice", "Alice"), requesters, strict=True)
    ]
    codes = {approver.pk: fresh_code(approver) for approver in approvers}

    def approval(staff_request, approver):
        return lambda: staff_requests.staff_request_approve(
            staff_request=staff_request, actor=approver, code=codes[approver.pk]
        )

    results, errors = race(
        [approval(request, approver) for request, approver in zip(pending, approvers, strict=True)]
    )
    assert len(results) + len(errors) == 2
    assert all(isinstance(error, staff_requests.StaffRequestError) for error in errors), errors
    assert User.objects.filter(username__iexact="alice").count() == len(results) <= 1
    with pytest.raises(IntegrityError):
        User.objects.create(username="ALICE-2") and User.objects.create(username="alice-2")
