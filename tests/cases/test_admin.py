"""The cases admin: identity masked unless the admin user may reveal it (and then logged),
workflow fields read-only, edits through the service, nothing deleted, search by code."""

from __future__ import annotations

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.roles import Role
from audit.models import AccessLog
from cases import services
from cases.choices import Relation, Status
from cases.models import (
    Case,
    CaseCodeCounter,
    CaseNote,
    DuplicateDismissal,
    Evidence,
    FamilyMember,
    ItemBrought,
    JourneyEvent,
    Referral,
    VerificationCheck,
)
from protection.fields import EncryptedField
from protection.masks import mask
from tests.factories import CaseFactory, add_to_team

pytestmark = pytest.mark.django_db

REAL_NAME = "Thura Zaw Aung"
SERVICE_NUMBER = "BA-445566"
PHONE = "09-4455-6677"
BIRTH = datetime.date(1990, 3, 4)
FAMILY_NAME = "Daw Khin Mya Aye"
WHEREABOUTS = "Near the old market in Monywa"

CASE_MODELS = (
    Case,
    FamilyMember,
    ItemBrought,
    Evidence,
    VerificationCheck,
    Referral,
    CaseNote,
    JourneyEvent,
    DuplicateDismissal,
    CaseCodeCounter,
)


def grant(user, *permissions: str):
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


CASE_ADMIN_PERMISSIONS = (
    "cases.view_case",
    "cases.change_case",
    "cases.view_familymember",
    "cases.change_familymember",
)


@pytest.fixture
def revealing_admin(make_staff, case):
    """An admin user who may reveal identities, on the team of `case` (need-to-know)."""
    user = grant(
        make_staff(Role.ADMINISTRATOR, is_staff=True),
        *CASE_ADMIN_PERMISSIONS,
        "accounts.reveal_identity",
    )
    add_to_team(case, user)
    return user


@pytest.fixture
def plain_admin(make_staff):
    return grant(make_staff(Role.ADMINISTRATOR, is_staff=True), *CASE_ADMIN_PERMISSIONS)


@pytest.fixture
def case():
    case = CaseFactory(
        real_name=REAL_NAME,
        service_number=SERVICE_NUMBER,
        phone=PHONE,
        date_of_birth=BIRTH,
        family_whereabouts=WHEREABOUTS,
        contact_date=datetime.date(2025, 3, 1),
    )
    FamilyMember.objects.create(
        case=case, name=FAMILY_NAME, relation=Relation.SPOUSE, whereabouts=WHEREABOUTS
    )
    return Case.objects.get(pk=case.pk)


def change_url(obj) -> str:
    return reverse(f"admin:cases_{obj._meta.model_name}_change", args=[obj.pk])


def secrets_in(content: str) -> list[str]:
    birth_formats = ("1990-03-04", "March 4, 1990", "Mar. 4, 1990", "04/03/1990", "4 March 1990")
    secrets = (REAL_NAME, "Thura", SERVICE_NUMBER, "445566", PHONE, FAMILY_NAME, WHEREABOUTS)
    return [secret for secret in (*secrets, *birth_formats, "hv1:") if secret in content]


def case_form_data(case: Case, **changes) -> dict:
    """What the revealing admin's change form posts, with `changes` applied."""
    data = {
        "contact_date": case.contact_date.isoformat(),
        "channel": case.channel,
        "region": case.region,
        "township": case.township,
        "force": case.force,
        "rank": case.rank,
        "unit_type": case.unit_type,
        "defection_date": "",
        "urgency": case.urgency,
        "risk_level": case.risk_level,
        "real_name": case.real_name,
        "alias": "",
        "service_number": case.service_number,
        "national_id": "",
        "phone": case.phone or "",
        "date_of_birth": case.date_of_birth.isoformat(),
        "unit": "",
        "family_whereabouts": case.family_whereabouts or "",
        "intake_notes": "",
        "expected_version": case.version,
        "_save": "Save",
    }
    data.update(changes)
    return data


# --- registration ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", CASE_MODELS, ids=lambda model: model.__name__)
def test_every_case_model_is_registered(model):
    assert admin.site.is_registered(model)


@pytest.mark.parametrize("model", CASE_MODELS, ids=lambda model: model.__name__)
def test_nothing_can_be_added_or_deleted(rf, make_staff, model):
    request = rf.get("/")
    request.user = make_staff(is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.parametrize("model", CASE_MODELS, ids=lambda model: model.__name__)
def test_search_fields_never_name_an_encrypted_field(model):
    encrypted = {
        field.name for field in model._meta.concrete_fields if isinstance(field, EncryptedField)
    }
    search_fields = admin.site._registry[model].search_fields
    assert all(name.lstrip("^=@").split("__")[0] not in encrypted for name in search_fields)


# --- identity: masked or revealed -----------------------------------------------------------------


def test_admin_without_reveal_permission_sees_only_masks(login, plain_admin, case):
    client = login(plain_admin)
    response = client.get(change_url(case))
    assert response.status_code == 200
    content = response.content.decode()
    assert mask(REAL_NAME) in content
    assert secrets_in(content) == []
    assert 'name="real_name"' not in content
    assert 'name="service_number"' not in content
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


def test_family_member_page_without_reveal_permission_is_masked(login, plain_admin, case):
    member = FamilyMember.objects.get(case=case)
    content = login(plain_admin).get(change_url(member)).content.decode()
    assert mask(FAMILY_NAME) in content
    assert secrets_in(content) == []


def test_admin_with_reveal_permission_sees_plaintext_and_is_logged(login, revealing_admin, case):
    response = login(revealing_admin).get(change_url(case))
    assert response.status_code == 200
    content = response.content.decode()
    assert REAL_NAME in content
    assert SERVICE_NUMBER in content
    assert 'name="real_name"' in content
    assert "hv1:" not in content
    entry = AccessLog.objects.get(action=AccessLog.Action.REVEAL)
    assert (entry.actor, entry.target_label, entry.field) == (
        revealing_admin,
        case.code,
        "identity",
    )
    assert REAL_NAME not in str(entry.detail)


def test_changelist_shows_codes_not_identity(login, plain_admin, revealing_admin, case):
    for user in (plain_admin, revealing_admin):
        content = login(user).get(reverse("admin:cases_case_changelist")).content.decode()
        assert case.code in content
        assert secrets_in(content) == []


# --- search --------------------------------------------------------------------------------------


def test_changelist_search_by_code_finds_the_case(login, plain_admin, case):
    other = CaseFactory()
    response = login(plain_admin).get(reverse("admin:cases_case_changelist"), {"q": case.code})
    assert response.status_code == 200
    content = response.content.decode()
    assert case.code in content
    assert other.code not in content


@pytest.mark.parametrize("query", [REAL_NAME, SERVICE_NUMBER, "hv1:", "%", "' OR 1=1 --"])
def test_searching_for_anything_else_finds_nothing_and_does_not_crash(
    login, plain_admin, case, query
):
    response = login(plain_admin).get(reverse("admin:cases_case_changelist"), {"q": query})
    assert response.status_code == 200
    assert case.code not in response.content.decode().split('id="result_list"', 1)[-1]


@pytest.mark.parametrize(
    "lookup",
    [
        {"real_name": REAL_NAME},
        {"real_name__startswith": "Th"},
        {"real_name__isnull": "False"},
        {"service_number_index": "abc"},
        {"name_and_birth_index__startswith": "a"},
    ],
)
def test_filtering_on_protected_fields_through_the_url_is_refused(login, plain_admin, case, lookup):
    response = login(plain_admin).get(reverse("admin:cases_case_changelist"), lookup)
    assert response.status_code == 400
    assert secrets_in(response.content.decode()) == []


def test_child_records_are_searched_by_case_code(login, plain_admin, case):
    response = login(plain_admin).get(
        reverse("admin:cases_familymember_changelist"), {"q": case.code}
    )
    assert response.status_code == 200
    assert case.code in response.content.decode()


# --- workflow fields and edits -----------------------------------------------------------------


def test_workflow_fields_are_read_only_for_everyone(rf, revealing_admin):
    request = rf.get("/")
    request.user = revealing_admin
    readonly = admin.site._registry[Case].get_readonly_fields(request, CaseFactory())
    for name in (
        "code",
        "status",
        "decided_by",
        "decided_at",
        "decision_reason",
        "verifier",
        "intake_officer",
        "journey_stage",
        "emergency",
        "case_manager",
    ):
        # An encrypted one (the reason) is shown masked, by its masked display.
        assert name in readonly or f"{name}_masked" in readonly


def test_posting_a_status_changes_nothing(login, revealing_admin, case):
    client = login(revealing_admin)
    data = case_form_data(case, status=Status.VERIFIED, decision_reason="forced", code="HV-1")
    response = client.post(change_url(case), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.INTAKE
    assert case.decided_by is None
    assert case.code.startswith("HV-2025-")


def test_revealing_admin_edits_identity_through_the_service(login, revealing_admin, case):
    client = login(revealing_admin)
    response = client.post(
        change_url(case), case_form_data(case, service_number="BA-000111", township="Kalay")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    updated = Case.objects.get(pk=case.pk)
    assert (updated.service_number, updated.township) == ("BA-000111", "Kalay")
    assert updated.version == case.version + 1
    # The blind index follows the new number, so duplicate detection still works.
    assert services.duplicate_matches(service_number="BA 000111") == [updated]


def test_plain_admin_cannot_change_identity_nor_the_details_that_narrow_a_person_down(
    login, plain_admin, case
):
    client = login(plain_admin)
    data = case_form_data(case, real_name="Someone Else", township="Kalay", urgency="urgent")
    response = client.post(change_url(case), data)
    assert response.status_code == 302
    updated = Case.objects.get(pk=case.pk)
    assert updated.real_name == REAL_NAME
    assert updated.township == "Monywa"
    assert updated.urgency == "urgent"


def test_stale_edit_is_refused(login, revealing_admin, case):
    client = login(revealing_admin)
    data = case_form_data(case, township="Kalay")
    services.case_update(case=case, actor=revealing_admin, version=case.version, unit="x")
    response = client.post(change_url(case), data)
    assert response.status_code == 200
    assert "Someone else changed this case" in response.content.decode()
    assert Case.objects.get(pk=case.pk).township != "Kalay"


def test_bad_dates_are_form_errors(login, revealing_admin, case):
    client = login(revealing_admin)
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    response = client.post(change_url(case), case_form_data(case, contact_date=future))
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert Case.objects.get(pk=case.pk).contact_date == case.contact_date


def test_duplicate_service_number_is_a_form_error(login, revealing_admin, case):
    other = CaseFactory(service_number="BA-999000")
    client = login(revealing_admin)
    response = client.post(change_url(case), case_form_data(case, service_number="ba 999000"))
    assert response.status_code == 200
    assert "already on file" in response.content.decode()
    assert Case.objects.get(pk=case.pk).service_number == SERVICE_NUMBER
    assert other.code not in response.content.decode()


def test_a_case_after_intake_is_read_only_for_an_admin_who_is_not_a_case_manager(
    login, revealing_admin, make_staff
):
    decided = CaseFactory(
        status=Status.VERIFIED,
        decided_by=make_staff(Role.CASE_MANAGER),
        decided_at=datetime.datetime(2025, 4, 1, tzinfo=datetime.UTC),
        decision_reason="All checks passed",
        township="Monywa",
    )
    client = login(revealing_admin)
    content = client.get(change_url(decided)).content.decode()
    assert 'name="township"' not in content
    response = client.post(change_url(decided), case_form_data(decided, township="Kalay"))
    assert response.status_code == 403
    assert Case.objects.get(pk=decided.pk).township == "Monywa"


def test_delete_page_is_refused(login, revealing_admin, case):
    response = login(revealing_admin).get(reverse("admin:cases_case_delete", args=[case.pk]))
    assert response.status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()


# --- history -------------------------------------------------------------------------------------


def test_history_is_shown_without_ciphertext_or_plaintext(
    login, plain_admin, revealing_admin, case
):
    services.case_update(
        case=case, actor=revealing_admin, version=case.version, real_name="Kyaw Kyaw Soe"
    )
    content = login(plain_admin).get(change_url(case)).content.decode()
    assert "case.update" in content
    assert "(encrypted value)" in content
    assert "Kyaw Kyaw Soe" not in content
    assert secrets_in(content) == []


def test_the_case_list_in_the_admin_shows_the_month_to_those_who_may_not_reveal(
    login, plain_admin, case
):
    content = login(plain_admin).get(reverse("admin:cases_case_changelist")).content.decode()
    assert case.code in content and "March 2025" in content
    for day in ("March 1, 2025", "Mar. 1, 2025", "2025-03-01"):
        assert day not in content
