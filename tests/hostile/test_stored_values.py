"""Accepted posts store exactly what was typed, in any script, and create exactly one record;
markup stored in a protected field is shown escaped when revealed."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.roles import Role
from cases.choices import CheckItem
from cases.models import Case, CaseNote, VerificationCheck
from tests.factories import CaseFactory, add_to_team
from tests.hostile.conftest import HOSTILE, check_response, in_savepoint
from tests.hostile.strategies import SCRIPT_PAYLOADS

pytestmark = pytest.mark.django_db

# Text a person may really type: every script, marks, emoji, direction marks and markup; not
# NUL or other control characters (refused by the forms), nor lone surrogates.
typed_text = (
    st.one_of(
        st.sampled_from(
            (
                "ဗိုလ်မှူး အောင်ကျော်",
                "محمد عبد الله",
                "王小明",
                "😀 \u202eabc\u202c",
                "e\u0301\u0302 O'Brien",
                "'; DROP TABLE cases_case; --",
                *SCRIPT_PAYLOADS,
            )
        ),
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
            min_size=1,
            max_size=40,
        ),
    )
    .map(lambda text: text[:50])
    .filter(lambda text: text.strip() != "")
)  # 50: the shortest limit

IDENTITY_TEXT_FIELDS = ("real_name", "alias", "phone", "service_number", "national_id", "unit")


@pytest.fixture
def intake_officer_client(make_staff, login):
    return login(make_staff(Role.INTAKE_OFFICER), Client(raise_request_exception=False))


def test_intake_stores_any_script_exactly_and_reveals_it_escaped(intake_officer_client):
    client = intake_officer_client

    @HOSTILE
    @given(values=st.fixed_dictionaries(dict.fromkeys(IDENTITY_TEXT_FIELDS, typed_text)))
    def intake(values):
        def attempt():
            before = Case.objects.count()
            data = {
                **values,
                "contact_date": "2025-03-01",
                "channel": "messaging",
                "region": "sagaing",
                "force": "army",
                "township": "Monywa",
                "rank": "corporal",
                "unit_type": "infantry",
                "urgency": "routine",
                "risk_level": "medium",
                "confirmed_not_duplicate": "on",
            }
            response = client.post(reverse("cases:intake"), data)
            check_response(response, f"intake with {values!r}")
            assert response.status_code == 302, response.content.decode()[-3000:]
            assert Case.objects.count() == before + 1
            case = Case.objects.latest("pk")
            assert VerificationCheck.objects.filter(case=case).count() == len(CheckItem.values)
            for name, value in values.items():
                assert getattr(case, name) == value.strip(), name
            reveal = reverse("cases:reveal", args=[case.pk, "real_name"])
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                page = client.post(reveal, **headers)
                check_response(page, f"reveal of {values['real_name']!r}")
                assert html.escape(values["real_name"].strip()) in page.content.decode()

        in_savepoint(attempt)

    intake()


def test_a_note_in_any_script_is_stored_once_and_shown_escaped(make_staff, login):
    manager = make_staff(Role.CASE_MANAGER)
    client = login(manager, Client(raise_request_exception=False))
    case = add_to_team(CaseFactory(), manager)
    notes = reverse("cases:notes", args=[case.pk])

    @HOSTILE
    @given(text=typed_text)
    def add_note(text):
        def attempt():
            response = client.post(notes, {"text": text})
            assert response.status_code == 302
            assert [note.text for note in CaseNote.objects.filter(case=case)] == [text.strip()]
            page = client.get(notes)
            check_response(page, f"notes after {text!r}")

        in_savepoint(attempt)

    add_note()
