"""Migration 0010: blind indexes of service and ID numbers recomputed with Western digits;
erased cases skipped; two cases that become equal are both listed for duplicate review."""

from __future__ import annotations

import importlib
import unicodedata

import pytest
from django.apps import apps

from cases.models import Case
from cases.selectors import possible_duplicates
from protection.blind_indexes import blind_index, blind_index_filter
from tests.factories import CaseFactory

migration = importlib.import_module("cases.migrations.0013_myanmar_digits_in_blind_indexes")

pytestmark = pytest.mark.django_db


def _old_index(value: str, field: str) -> str:
    """The index as it was stored before Myanmar digits were read as Western ones."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    kept = "".join(character for character in folded if character.isalnum())
    return blind_index(kept, purpose=f"cases.case.{field}", normalise=lambda text: text)


def _stored_the_old_way(case: Case, field: str, value: str) -> None:
    Case.objects.filter(pk=case.pk).update(
        **{f"{field}_index": _old_index(value, field), "identifier_clash": False}
    )


def test_indexes_are_recomputed_and_cases_that_became_equal_are_listed_for_review():
    western = CaseFactory(service_number="PL-383057")
    # Saved (exempt for a moment) with the number in Myanmar digits, then indexed the old way.
    burmese = CaseFactory(service_number="PL-၃၈၃၀၅၇", identifier_clash=True)
    _stored_the_old_way(burmese, "service_number", "PL-၃၈၃၀၅၇")
    by_id = CaseFactory(service_number=None, national_id="၁၂/မရန(နိုင်)၀၄၅၆၇၈", identifier_clash=True)
    _stored_the_old_way(by_id, "national_id", "၁၂/မရန(နိုင်)၀၄၅၆၇၈")
    erased = CaseFactory(service_number="BA-၇၇၇")
    Case.objects.filter(pk=erased.pk).update(service_number_index="", national_id_index="")
    assert western.service_number_index != Case.objects.get(pk=burmese.pk).service_number_index

    migration.recompute_blind_indexes(apps, None)

    western, burmese, by_id, erased = (
        Case.objects.get(pk=case.pk) for case in (western, burmese, by_id, erased)
    )
    assert western.service_number_index == burmese.service_number_index
    assert (western.identifier_clash, burmese.identifier_clash) == (False, True)
    pairs = {(pair.first.pk, pair.second.pk): pair.reasons for pair in possible_duplicates()}
    assert pairs[(western.pk, burmese.pk)] == ["same service number"]
    # Both are found by the number, however it is typed.
    for typed in ("PL-383057", "pl ၃၈၃၀၅၇"):
        found = Case.objects.filter(blind_index_filter(Case, "service_number", typed))
        assert set(found) == {western, burmese}
    found = Case.objects.filter(blind_index_filter(Case, "national_id", "12/မရန(နိုင်)045678"))
    assert list(found) == [by_id]
    assert (erased.service_number_index, erased.national_id_index) == ("", "")
    assert erased.identifier_clash is False

    # Run again: nothing changes.
    migration.recompute_blind_indexes(apps, None)
    assert Case.objects.get(pk=burmese.pk).service_number_index == burmese.service_number_index
