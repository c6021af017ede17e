"""The exact rank narrows a person down (there are few captains in a battalion): it is encrypted
under the case's data key, and only its group (enlisted, NCO, junior or senior officer) is kept in
clear, derived when the case is saved, for the reports, the list and its filter."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from accounts.roles import Role
from cases import selectors, services
from cases.models import Case
from cases.services import CaseError
from protection.erasure import destroy_data_key
from protection.keys import ERASED
from tests.factories import CaseFactory, VerifiedCaseFactory, add_to_team

pytestmark = pytest.mark.django_db


def stored(case: Case) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rank, rank_group FROM cases_case WHERE id = %s", [case.pk])
        return cursor.fetchone()


def test_the_rank_is_stored_encrypted_and_its_group_in_clear():
    case = CaseFactory(rank="captain")
    rank, group = stored(case)
    assert rank.startswith("hv1:") and "captain" not in rank
    assert group == "junior_officer"
    assert Case.objects.get(pk=case.pk).rank == "captain"


def test_the_history_keeps_no_clear_rank():
    case = CaseFactory(rank="colonel")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rank, rank_group FROM cases_caseevent WHERE pgh_obj_id = %s", [case.pk]
        )
        rows = cursor.fetchall()
    assert rows and all(rank.startswith("hv1:") for rank, _group in rows)
    assert {group for _rank, group in rows} == {"senior_officer"}


def test_a_case_saved_without_its_rank_read_keeps_its_group():
    case = CaseFactory(rank="sergeant")
    # Never read (still ciphertext), or not loaded at all: the group is not recomputed as empty.
    unread = Case.objects.get(pk=case.pk)
    unread.urgency = "urgent"
    unread.save()
    deferred = Case.objects.defer("rank").get(pk=case.pk)
    deferred.risk_level = "high"
    deferred.save(update_fields=["risk_level"])
    assert stored(case)[1] == "nco"
    assert Case.objects.get(pk=case.pk).rank == "sergeant"


def test_changing_the_rank_changes_its_group(case_manager):
    case = VerifiedCaseFactory(rank="private", case_manager=case_manager)
    add_to_team(case, case_manager)
    services.case_update(case=case, actor=case_manager, version=case.version, rank="major")
    assert stored(case)[1] == "senior_officer"
    assert Case.objects.get(pk=case.pk).rank == "major"


def test_an_unknown_rank_is_refused_and_nothing_changes(case_manager):
    case = VerifiedCaseFactory(rank="private", case_manager=case_manager)
    add_to_team(case, case_manager)
    with pytest.raises(CaseError, match="Choose a rank"):
        services.case_update(case=case, actor=case_manager, version=case.version, rank="emperor")
    assert stored(case)[1] == "enlisted"
    assert Case.objects.get(pk=case.pk).rank == "private"


def test_the_database_refuses_a_rank_group_that_is_not_one():
    from django.db import IntegrityError, transaction

    case = CaseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(rank_group="general_staff")


def test_an_erased_case_loses_its_rank_and_keeps_its_group_in_reports_and_filters():
    case = VerifiedCaseFactory(rank="lieutenant")
    filters = selectors.CaseFilters(rank_group="junior_officer")
    assert list(selectors.case_list(filters=filters).values_list("pk", flat=True)) == [case.pk]
    destroy_data_key(case.data_key)
    erased = Case.objects.get(pk=case.pk)
    assert erased.rank is ERASED and erased.rank_group == "junior_officer"
    assert list(selectors.case_list(filters=filters).values_list("pk", flat=True)) == [case.pk]
    rows = list(
        selectors.report_case_rows(date_from=erased.contact_month, date_to=erased.contact_month)
    )
    assert [row["rank_group"] for row in rows] == ["junior_officer"]


def test_the_team_sees_the_exact_rank_others_only_its_group(login, make_staff):
    manager, outsider = make_staff(Role.CASE_MANAGER), make_staff(Role.CASE_MANAGER)
    case = VerifiedCaseFactory(rank="warrant_officer", case_manager=manager)
    add_to_team(case, manager)
    page = login(manager).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Warrant officer" in page and "Non-commissioned officer" in page
    client = login(outsider)
    outside = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Warrant officer" not in outside and "Non-commissioned officer" in outside
    listed = client.get(reverse("cases:list")).content.decode()
    assert "Warrant officer" not in listed and "Non-commissioned officer" in listed


def test_the_erasure_pages_show_the_rank_group_not_the_rank(login, administrator):
    # Administrators approve erasures without seeing who the person is.
    case = VerifiedCaseFactory(rank="lieutenant_colonel")
    page = login(administrator).get(reverse("cases:erasure_create", args=[case.pk]))
    assert page.status_code == 200
    assert "Lieutenant colonel" not in page.content.decode()
    assert "Senior officer" in page.content.decode()


def test_the_decision_page_shows_rank_and_unit_type_to_the_team_only(login, make_staff):
    manager, outsider = make_staff(Role.CASE_MANAGER), make_staff(Role.CASE_MANAGER)
    case = CaseFactory(status="verifying", rank="captain", unit_type="signals")
    add_to_team(case, manager)
    inside = login(manager).get(reverse("cases:decide", args=[case.pk])).content.decode()
    assert "Captain" in inside and "Signals" in inside
    outside = login(outsider).get(reverse("cases:decide", args=[case.pk])).content.decode()
    assert "Captain" not in outside and "Signals" not in outside
    assert "Junior officer" in outside
