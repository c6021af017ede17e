"""Upgrading a database that already holds what a new constraint forbids: the migration stops
and says which rows to settle, and takes no money decision itself (payments 0012)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.roles import Role
from tests.factories import FundingSourceFactory, VerifiedCaseFactory

# Migrating needs real transactions; serialized_rollback restores the roles afterwards.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("payments", "0011_plan_payout_set_at_index")]
AFTER = [("payments", "0012_one_off_submission_and_one_open_reward")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_two_open_rewards_of_one_case_stop_the_upgrade_with_their_numbers(make_staff):
    officer = make_staff(Role.FINANCE_OFFICER)
    case, source = VerifiedCaseFactory(), FundingSourceFactory(currency="MMK")
    migrate(BEFORE)
    ids = []
    try:
        with connection.cursor() as cursor:
            for _ in range(2):
                cursor.execute(
                    "INSERT INTO payments_oneoffpayment (case_id, kind, amount, currency,"
                    " funding_source_id, status, required_approvals, proposed_by_id, proposed_at)"
                    " VALUES (%s, 'reward', 1000, 'MMK', %s, 'proposed', 1, %s, now())"
                    " RETURNING id",
                    [case.pk, source.pk, officer.pk],
                )
                ids.append(cursor.fetchone()[0])
        with pytest.raises(RuntimeError) as stopped:
            migrate(AFTER)
        assert all(f"#{pk}" in str(stopped.value) for pk in ids)
        assert "Reject the duplicates" in str(stopped.value)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE payments_oneoffpayment SET status = 'rejected' WHERE id = %s", [ids[1]]
            )
    finally:
        migrate(AFTER)
    from payments.models import OneOffPayment  # the model as it is after the migration

    assert OneOffPayment.objects.filter(case=case, status="proposed").count() == 1
