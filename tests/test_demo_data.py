"""The demo organisation: realistic shape, fictional, and loaded only once however often run."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD
from accounts.models import EmergencyLock, StaffRequest
from cases.models import Case, ErasureRequest, ItemBrought
from housing.models import Allocation, House
from housing.selectors import waiting_list
from payments.models import DisbursementBatch
from payments.services import batch_ledger_total, batch_lines_total

pytestmark = pytest.mark.django_db


def test_demo_organisation_has_the_shape_of_the_real_work(settings):
    """Loaded once (the loader takes a minute and a half here), then read as two stories: the
    organisation's shape, and the need-to-know and journeys of issues 14, 17 and 18."""
    settings.HAVEN_DEMO = True
    call_command("load_demo", stdout=io.StringIO())
    shape_of_the_organisation()
    need_to_know_and_journeys()


def shape_of_the_organisation() -> None:
    cases = Case.objects.all()
    total = cases.count()
    assert 250 <= total <= 350
    army_share = cases.filter(force="army").count() / total
    assert 0.2 <= army_share <= 0.4
    with_weapons = ItemBrought.objects.filter(category="weapon").values("case").distinct().count()
    assert 0.05 <= with_weapons / total <= 0.15
    peak = cases.filter(contact_month=datetime.date(2021, 7, 1)).count()
    late = cases.filter(contact_month=datetime.date(2023, 7, 1)).count()
    assert peak >= 5 * max(late, 1)
    assert cases.filter(status="verified").count() > total / 2
    assert House.objects.count() == 12
    assert House.objects.filter(status="compromised").count() == 1
    assert Allocation.objects.exists() and waiting_list()

    closed = DisbursementBatch.objects.filter(status="closed")
    assert closed.count() == 12
    for batch in closed:
        assert batch_ledger_total(batch) == batch.total == batch_lines_total(batch)
    assert DisbursementBatch.objects.filter(status="draft").exists()
    # The retention rule has already proposed long-closed cases; none is erased by it.
    proposals = ErasureRequest.objects.filter(proposed_by_rule=True)
    assert proposals.exists()
    assert not proposals.exclude(status="proposed").exists()
    # A role request waits for the second administrator; a lost-device lock was lifted by two,
    # and its staff member set their own password (the demo's) through the one-time link.
    assert StaffRequest.objects.filter(kind="grant_role", status="pending").exists()
    lift = StaffRequest.objects.get(kind="lift_lock", status="approved")
    assert lift.decided_by_id != lift.requested_by_id
    assert not EmergencyLock.objects.filter(lifted_at__isnull=True).exists()
    assert lift.user.is_active and lift.user.check_password(DEMO_PASSWORD)

    counts = (
        Case.objects.count(),
        Allocation.objects.count(),
        House.objects.count(),
        ErasureRequest.objects.count(),
    )
    call_command("load_demo", stdout=io.StringIO())
    assert (
        Case.objects.count(),
        Allocation.objects.count(),
        House.objects.count(),
        ErasureRequest.objects.count(),
    ) == counts


def need_to_know_and_journeys() -> None:
    """The demo of issues 14 and 17: case teams, a break-the-glass awaiting review, a reveal
    refused over the budget, and journeys in progress, overdue, escalated, arrived with a
    debrief, cancelled and minimised (issue 18)."""
    from audit.models import AccessLog
    from cases.models import BreakGlass, CaseTeamMember
    from journeys.models import Escalation, Journey, Step

    assert Case.objects.filter(case_manager__username="casemanager").exists()
    assert CaseTeamMember.objects.filter(user__username="verifier2").exists()
    assert BreakGlass.objects.filter(reviewed_at__isnull=True).exists()
    assert AccessLog.objects.filter(
        action=AccessLog.Action.DENIED, actor__username="verifier2", detail__action="reveal"
    ).exists()
    assert Journey.objects.filter(status="active").count() == 4
    assert Escalation.objects.filter(step=Step.CONTINGENCY).exists()
    # A journey in every state: arrived with its debrief, cancelled, and one minimised.
    assert Journey.objects.filter(
        status="arrived", minimised_at__isnull=True, debrief__isnull=False
    ).exists()
    assert Journey.objects.filter(status="cancelled").exists()
    minimised = Journey.objects.get(minimised_at__isnull=False)
    assert minimised.data_key.destroyed_at is not None
    assert minimised.debrief.problems
