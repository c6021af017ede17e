"""The move from day ranges to moments (housing 0005) on a database that already has stays: each
stay keeps its meaning (check-in and check-out days' midnights in Haven's time zone), its
history keeps its copies, and the constraints hold afterwards."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.roles import Role
from tests.factories import BedFactory, VerifiedCaseFactory

# Migrating needs real transactions; serialized_rollback restores the roles afterwards.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("housing", "0004_data_key_in_protection")]
# Then on to the newest, which encrypts the reasons (issue 16), as an upgrade would go.
AFTER = [("housing", "0006_encrypt_stay_reasons")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


def test_existing_stays_become_the_same_stays_in_moments(make_staff):
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    bed, other_bed = BedFactory(), BedFactory()
    first, second = VerifiedCaseFactory(), VerifiedCaseFactory()
    today = timezone.localdate()
    ended = (today - datetime.timedelta(days=10), today - datetime.timedelta(days=3))
    open_from = today - datetime.timedelta(days=3)
    migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            for case, stay_bed, lower, upper in (
                (first, bed, *ended),
                (second, bed, open_from, None),
                (first, other_bed, ended[1], None),
            ):
                cursor.execute(
                    "INSERT INTO housing_allocation (bed_id, case_id, period, checked_in_by_id,"
                    " move_reason, created_at) VALUES (%s, %s, daterange(%s, %s, '[)'), %s, '',"
                    " now())",
                    [stay_bed.pk, case.pk, lower, upper, coordinator.pk],
                )
    finally:
        migrate(AFTER)

    from housing.models import Allocation  # the model as it is after the migration

    stays = {
        (stay.case_id, stay.bed_id, stay.stay.upper is None): stay
        for stay in Allocation.objects.all()
    }
    assert len(stays) == 3
    closed = stays[(first.pk, bed.pk, False)].stay
    assert (closed.lower, closed.upper) == (midnight(ended[0]), midnight(ended[1]))
    assert stays[(second.pk, bed.pk, True)].stay.lower == midnight(open_from)
    # The change history's copies were converted too.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM housing_allocationevent WHERE stay IS NULL")
        assert cursor.fetchone() == (0,)
    # And the constraints are in force on the converted rows.
    with pytest.raises(IntegrityError, match="bed_never_double_booked"), transaction.atomic():
        Allocation.objects.create(
            bed=bed,
            case=VerifiedCaseFactory(),
            stay=(timezone.now(), None),
            checked_in_by=coordinator,
        )
