"""The partner directory: case managers add and retire partners; a referral names a partner in
use from it; one entry per name, even when two people add it at the same moment."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from accounts.roles import Role
from cases import services
from cases.models import Partner
from cases.services import CaseError
from tests.factories import CaseFactory, PartnerFactory, add_to_team
from tests.racing import in_a_thread, race, waiting_on_a_lock

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_staff):
    return make_staff(Role.CASE_MANAGER)


def test_a_case_manager_adds_a_partner_once_whatever_the_case_of_its_name(manager):
    partner = services.partner_create(
        actor=manager, name="  Fictional   Clinic ", partner_type="medical", contact="Office 1"
    )
    assert (partner.name, partner.partner_type, partner.created_by) == (
        "Fictional Clinic",
        "medical",
        manager,
    )
    with pytest.raises(CaseError, match="already in the directory"):
        services.partner_create(actor=manager, name="fictional clinic", partner_type="legal")
    with pytest.raises(CaseError, match="name"):
        services.partner_create(actor=manager, name="   ", partner_type="legal")
    with pytest.raises(CaseError, match="type"):
        services.partner_create(actor=manager, name="Other", partner_type="bank")
    assert Partner.objects.count() == 1


def test_only_who_manages_referrals_changes_the_directory(make_staff):
    intake_officer = make_staff(Role.INTAKE_OFFICER)
    with pytest.raises(PermissionDenied):
        services.partner_create(actor=intake_officer, name="Aid", partner_type="legal")
    with pytest.raises(PermissionDenied):
        services.partner_set_active(partner=PartnerFactory(), actor=intake_officer, active=False)


def test_a_retired_partner_takes_no_new_referral_and_keeps_its_referrals(manager):
    case = CaseFactory(case_manager=manager)
    add_to_team(case, manager)
    partner = PartnerFactory(name="Fictional Legal Aid")
    referral = services.referral_create(case=case, actor=manager, partner=partner, purpose="Visa")
    services.partner_set_active(partner=partner, actor=manager, active=False)
    with pytest.raises(CaseError, match="in use"):
        services.referral_create(case=case, actor=manager, partner=partner, purpose="Again")
    referral.refresh_from_db()
    assert referral.partner == partner and referral.purpose == "Visa"
    services.partner_set_active(partner=partner, actor=manager, active=True)
    with pytest.raises(CaseError, match="what the referral is for"):
        services.referral_create(case=case, actor=manager, partner=partner, purpose="  ")
    assert case.referrals.count() == 1


def test_the_partner_page_adds_and_retires_and_the_referral_form_offers_partners_in_use(
    login, manager, make_staff
):
    client = login(manager)
    response = client.post(
        reverse("cases:partners"),
        {"action": "create", "name": "Fictional Ministry Desk", "partner_type": "ministry"},
        follow=True,
    )
    assert "Fictional Ministry Desk is in the directory" in response.content.decode()
    partner = Partner.objects.get()
    client.post(reverse("cases:partners"), {"action": "retire", "partner": partner.pk})
    partner.refresh_from_db()
    assert not partner.active
    PartnerFactory(name="Fictional Clinic")
    case = CaseFactory(case_manager=manager)
    add_to_team(case, manager)
    page = client.get(reverse("cases:referrals", args=[case.pk])).content.decode()
    assert "Fictional Clinic" in page and "Fictional Ministry Desk" not in page
    duplicate = client.post(
        reverse("cases:partners"),
        {"action": "create", "name": "fictional clinic", "partner_type": "medical"},
    )
    assert "already in the directory" in duplicate.content.decode()
    assert login(make_staff(Role.AUDITOR)).get(reverse("cases:partners")).status_code == 403


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_adding_the_same_partner_at_once_make_one_entry(make_staff):
    first, second = make_staff(Role.CASE_MANAGER), make_staff(Role.CASE_MANAGER)
    results, errors = race(
        [
            lambda: services.partner_create(
                actor=first, name="Fictional Shelter", partner_type="other"
            ),
            lambda: services.partner_create(
                actor=second, name="FICTIONAL SHELTER", partner_type="other"
            ),
        ]
    )
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], CaseError)
    assert Partner.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_referral_written_while_its_partner_is_retired_waits_and_is_refused(make_staff):
    manager, other = make_staff(Role.CASE_MANAGER), make_staff(Role.CASE_MANAGER)
    case = CaseFactory(case_manager=manager)
    partner = PartnerFactory(name="Fictional Legal Aid")
    referring: dict = {}
    with transaction.atomic():
        services.partner_set_active(partner=partner, actor=other, active=False)
        thread = in_a_thread(
            lambda: services.referral_create(
                case=case, actor=manager, partner=partner, purpose="Visa"
            ),
            referring,
        )
        assert waiting_on_a_lock()
    thread.join(20)
    assert isinstance(referring.get("error"), CaseError), referring
    assert not case.referrals.exists()


def test_a_refused_change_of_the_directory_is_in_the_access_log(login, make_staff):
    from audit.models import AccessLog

    verifier = make_staff(Role.VERIFIER)
    response = login(verifier).post(
        reverse("cases:partners"), {"action": "add", "name": "Fictional Shelter"}
    )
    assert response.status_code == 403
    assert not Partner.objects.filter(name="Fictional Shelter").exists()
    assert AccessLog.objects.filter(action=AccessLog.Action.DENIED, actor=verifier).exists()


def test_saving_a_case_loaded_without_its_dates_keeps_its_months():
    from cases.models import Case

    case = CaseFactory()
    months = (case.contact_month, case.defection_month)
    partial = Case.objects.only("pk", "status", "contact_month", "defection_month").get(pk=case.pk)
    partial.save()
    case.refresh_from_db()
    assert (case.contact_month, case.defection_month) == months
    assert case.contact_month is not None
