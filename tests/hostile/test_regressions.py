"""The inputs the hostile search found breaking a page, each kept as a plain example."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule

from accounts.forms import parse_id
from accounts.roles import Role
from cases import services as case_services
from cases.models import FamilyMember, ItemBrought, Referral
from payments import services as payment_services
from payments.models import Payment, PaymentStatus
from tests.factories import CaseFactory, PartnerFactory, StipendPlanFactory

pytestmark = pytest.mark.django_db

# str.isdigit() says yes to these; int() refuses the first two and reads the third as 12.
UNICODE_DIGITS = ("²", "①", "١٢")


def client_for(login, make_staff, role: str) -> Client:
    return login(make_staff(role), Client(raise_request_exception=False))


def test_only_ascii_digits_are_database_ids():
    assert parse_id("42") == 42
    assert [parse_id(text) for text in (*UNICODE_DIGITS, "", "-1", " 1", "1.0")] == [None] * 7


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_case_pages_answer_unicode_digit_ids_with_not_found(login, make_staff, digits):
    manager = make_staff(Role.CASE_MANAGER)
    client = login(manager, Client(raise_request_exception=False))
    case = CaseFactory()
    case_services.family_member_add(case=case, actor=manager, name="Ma Hla", relation="child")
    case_services.item_add(case=case, actor=manager, item_type="rifle", count=1)
    case_services.referral_create(
        case=case, actor=manager, partner=PartnerFactory(name="Aid"), purpose="Help"
    )
    posts = {
        reverse("cases:intake_family", args=[case.pk]): {"action": "remove", "member": digits},
        reverse("cases:intake_items", args=[case.pk]): {"action": "remove", "item": digits},
        reverse("cases:referrals", args=[case.pk]): {"action": "status", "referral": digits},
        reverse("cases:duplicates"): {"first": digits, "second": str(case.pk)},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
    assert FamilyMember.objects.filter(case=case).count() == 1
    assert ItemBrought.objects.filter(case=case).count() == 1
    assert Referral.objects.get(case=case).status == "proposed"


def test_allocation_page_sends_unicode_digit_case_back_to_the_waiting_list(login, make_staff):
    client = client_for(login, make_staff, Role.HOUSING_COORDINATOR)
    response = client.get(reverse("housing:allocate"), {"case": "²"})
    assert response.status_code == 302
    assert response["Location"] == reverse("housing:waiting_list")


def test_one_off_page_answers_unicode_digit_case_with_not_found(login, make_staff):
    client = client_for(login, make_staff, Role.FINANCE_OFFICER)
    assert client.get(reverse("payments:one_off_new"), {"case": "²"}).status_code == 404


def test_recording_a_unicode_digit_line_is_refused_and_records_nothing(login, make_staff):
    officer = make_staff(Role.FINANCE_OFFICER)
    StipendPlanFactory()
    (batch,) = payment_services.disbursement_run(
        period=timezone.localdate().replace(day=1), actor=officer
    )
    payment_services.batch_approve(batch=batch, actor=make_staff(Role.FINANCE_APPROVER))
    client = login(officer, Client(raise_request_exception=False))
    response = client.post(
        reverse("payments:record", args=[batch.pk]),
        {"lines": ["²"], "outcome": "paid", "method": "cash", "acknowledged": "on"},
    )
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode() or "alert-danger" in response.content.decode()
    assert not Payment.objects.filter(batch=batch).exclude(status=PaymentStatus.PENDING).exists()


def test_access_log_filter_with_a_nul_character_is_answered(login, make_staff):
    client = client_for(login, make_staff, Role.AUDITOR)
    response = client.get(reverse("audit:access_log"), {"username": "ad\x00min"})
    assert response.status_code == 200


def test_login_with_an_overlong_user_name_is_refused_with_a_message():
    client = Client(raise_request_exception=False)
    response = client.post(
        reverse("accounts:login"), {"username": "a" * 5000, "password": "anything"}
    )
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()


def test_a_crontab_schedule_celery_cannot_read_is_refused_in_the_admin(make_staff, login):
    client = login(
        make_staff(Role.ADMINISTRATOR, is_staff=True), Client(raise_request_exception=False)
    )
    schedule = {
        "minute": "0",
        "hour": "6",
        "day_of_week": "*",
        "day_of_month": "1",
        "periodictask_set-TOTAL_FORMS": "0",
        "periodictask_set-INITIAL_FORMS": "0",
    }
    before = CrontabSchedule.objects.count()
    response = client.post(
        reverse("admin:django_celery_beat_crontabschedule_add"),
        {**schedule, "month_of_year": "-1", "timezone": "Asia/Yangon", "_save": "Save"},
    )
    assert response.status_code == 200
    assert "Celery cannot read this value." in response.content.decode()
    assert CrontabSchedule.objects.count() == before
    response = client.post(
        reverse("admin:django_celery_beat_crontabschedule_add"),
        {**schedule, "month_of_year": "*", "timezone": "Asia/Yangon", "_save": "Save"},
    )
    assert response.status_code == 302
    assert CrontabSchedule.objects.count() == before + 1
