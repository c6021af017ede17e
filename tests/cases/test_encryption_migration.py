"""The upgrade that encrypts what was written about people in clear (cases 0009, issue 16) on a
database that already holds such text, in its rows and in its change history: afterwards no clear
copy is left anywhere in those tables, the text reads back for the case's team, the months are
derived, an erased case's text is unreadable, and referral partners became directory records."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.roles import Role
from cases import services
from cases.choices import JourneyStage
from protection.erasure import destroy_data_key
from protection.keys import ERASED, data_key_cache
from tests.factories import PartnerFactory, VerifiedCaseFactory, add_to_team

# Migrating needs real transactions; serialized_rollback restores the roles afterwards.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("cases", "0013_myanmar_digits_in_blind_indexes")]
TABLES = (
    "cases_case",
    "cases_itembrought",
    "cases_journeyevent",
    "cases_referral",
    "cases_duplicatedismissal",
)


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def newest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def clear_copies(marker: str) -> dict[str, int]:
    """The rows of each table holding `marker`. The markers carry a `~`, which no ciphertext
    (URL-safe base64) holds: a short one such as `ZQ-` turns up inside a token now and then."""
    found = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            for name in (table, f"{table}event"):
                cursor.execute(
                    f"SELECT count(*) FROM {name} AS row WHERE row::text LIKE %s",  # noqa: S608
                    [f"%{marker}%"],
                )
                (count,) = cursor.fetchone()
                if count:
                    found[name] = count
    return found


def test_clear_text_in_rows_and_history_is_encrypted_and_erased_cases_lose_theirs(make_staff):
    """Cases 0014 (free text, dates and township), 0020 (the exact rank under the case's key,
    its group in clear) and 0021 (a dismissal's reason under a key of its own), back to 0013
    and forth again, in one trip: a trip through the migrations takes a minute here."""
    manager = make_staff(Role.CASE_MANAGER)
    case = VerifiedCaseFactory(case_manager=manager, contact_date=datetime.date(2024, 7, 19))
    add_to_team(case, manager)
    services.item_add(case=case, actor=manager, item_type="rifle", count=1)
    services.case_set_stage(case=case, actor=manager, stage=JourneyStage.IN_TRANSIT)
    services.referral_create(
        case=case, actor=manager, partner=PartnerFactory(name="Fictional Clinic"), purpose="x"
    )
    erased = VerifiedCaseFactory()
    destroy_data_key(erased.data_key)
    ranked = RankedCases.create(manager)

    migrate(BEFORE)
    try:
        ranked.check_back_in_clear()
        # As an older Haven wrote them: in clear, and copied by the history triggers.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_case SET township = 'ZQ~town', decision_reason = 'ZQ~decision',"
                " status_reason = 'ZQ~status', contact_date = '2024-07-18' WHERE id = %s",
                [case.pk],
            )
            cursor.execute(
                "UPDATE cases_case SET township = 'ZQ~erased-town',"
                " decision_reason = 'ZQ~erased-decision' WHERE id = %s",
                [erased.pk],
            )
            cursor.execute("UPDATE cases_itembrought SET notes = 'ZQ~item'")
            cursor.execute("UPDATE cases_journeyevent SET reason = 'ZQ~journey'")
            cursor.execute(
                "UPDATE cases_referral SET purpose = 'ZQ~purpose',"
                " partner_name = 'Fictional Legal Aid', partner_type = 'legal'"
            )
        assert clear_copies("ZQ~")  # the history holds clear copies too
        ranked.write_in_clear()
    finally:
        migrate(newest())

    assert clear_copies("ZQ~") == {}
    assert clear_copies("2024-07-18") == {}
    data_key_cache.clear()
    from cases.models import Case, Partner, Referral  # as they are after the migration

    upgraded = Case.objects.get(pk=case.pk)
    assert (upgraded.township, upgraded.decision_reason, upgraded.status_reason) == (
        "ZQ~town",
        "ZQ~decision",
        "ZQ~status",
    )
    assert upgraded.contact_date == datetime.date(2024, 7, 18)
    assert upgraded.contact_month == datetime.date(2024, 7, 1)
    assert upgraded.items.get().notes == "ZQ~item"
    assert upgraded.journey_events.get().reason == "ZQ~journey"
    referral = Referral.objects.get(case=upgraded)
    assert referral.purpose == "ZQ~purpose"
    assert (referral.partner.name, referral.partner.partner_type) == (
        "Fictional Legal Aid",
        "legal",
    )
    assert Partner.objects.filter(name="Fictional Clinic").exists()  # kept, now unused
    gone = Case.objects.get(pk=erased.pk)
    assert gone.township is ERASED and gone.decision_reason is ERASED
    assert gone.contact_month is not None
    ranked.check_encrypted_again()


class RankedCases:
    """Three ranked cases and two dismissals between them, one case erased: cases 0020 and 0021
    undone (ranks and reasons in clear, an erased case's rank unknown) and done again."""

    def __init__(self, case, other, erased) -> None:
        self.case, self.other, self.erased = case, other, erased

    @classmethod
    def create(cls, manager) -> RankedCases:
        case = VerifiedCaseFactory(rank="captain")
        other = VerifiedCaseFactory(rank="private")
        erased = VerifiedCaseFactory(rank="sergeant")
        services.duplicate_dismiss(first=case, second=other, actor=manager, reason="Other unit")
        services.duplicate_dismiss(first=case, second=erased, actor=manager, reason="Older")
        destroy_data_key(erased.data_key)
        return cls(case, other, erased)

    def ids(self) -> list[int]:
        return [self.case.pk, self.other.pk, self.erased.pk]

    def check_back_in_clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, rank FROM cases_case WHERE id = ANY(%s)", [self.ids()])
            assert dict(cursor.fetchall()) == {
                self.case.pk: "captain",
                self.other.pk: "private",
                self.erased.pk: "unknown",
            }
            cursor.execute("SELECT second_case_id, reason FROM cases_duplicatedismissal")
            # (the key was destroyed alone here: the upgrade destroys the pair's key too)
            assert dict(cursor.fetchall()) == {
                self.other.pk: "Other unit",
                self.erased.pk: "Older",
            }

    def write_in_clear(self) -> None:
        """As an older Haven wrote them: in clear, and copied by the history triggers."""
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cases_case SET rank = 'colonel' WHERE id = %s", [self.case.pk])
            cursor.execute(
                "UPDATE cases_case SET rank = 'corporal' WHERE id = %s", [self.erased.pk]
            )
            cursor.execute(
                "UPDATE cases_duplicatedismissal SET reason = 'ZQ~reason-' || second_case_id"
            )
        assert clear_copies("colonel") and clear_copies("ZQ~reason-")

    def check_encrypted_again(self) -> None:
        assert clear_copies("colonel") == {} and clear_copies("corporal") == {}
        assert clear_copies("ZQ~reason-") == {}
        from cases.models import Case, DuplicateDismissal  # as they are after the migration

        upgraded = Case.objects.get(pk=self.case.pk)
        assert (upgraded.rank, upgraded.rank_group) == ("colonel", "senior_officer")
        assert Case.objects.get(pk=self.other.pk).rank_group == "enlisted"
        gone = Case.objects.get(pk=self.erased.pk)
        assert gone.rank is ERASED and gone.rank_group == "nco"
        reasons = {d.second_case_id: d.reason for d in DuplicateDismissal.objects.all()}
        assert reasons == {self.other.pk: f"ZQ~reason-{self.other.pk}", self.erased.pk: ERASED}
