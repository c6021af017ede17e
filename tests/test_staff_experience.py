"""Staff experience II below the browser: Myanmar digits are one way of writing numbers (forms,
searches, blind indexes), a batch that no longer awaits approval is not announced, and a 403 is
one quiet log line."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.roles import Role
from cases import services as case_services
from cases.forms import CaseFilterForm, FamilyMemberForm, ItemForm
from cases.models import Case
from payments import services as payment_services
from payments.forms import OneOffForm
from payments.models import BatchStatus, FundingSource
from payments.notifications import notify_batch_ready
from protection.blind_indexes import blind_index_filter, normalise_identifier, western_digits
from tests.factories import CaseFactory, FundingSourceFactory, StipendPlanFactory


def test_myanmar_digits_are_western_digits():
    assert western_digits("PL-၃၈၃၀၅၇") == "PL-383057"
    assert western_digits("၀၁၂၃၄၅၆၇၈၉") == "0123456789"
    # Superscripts and circled numbers are not digits anyone types for a number.
    assert western_digits("²①") == "²①"
    assert normalise_identifier("PL-၃၈၃ ၀၅၇") == normalise_identifier("pl 383057")


def test_numbers_are_typed_in_text_boxes_with_a_numeric_keyboard_and_read_in_myanmar_digits():
    form = FamilyMemberForm()
    rendered = str(form["age"])
    assert 'type="text"' in rendered and 'inputmode="numeric"' in rendered
    assert 'type="number"' not in rendered

    bound = FamilyMemberForm({"name": "Ma Hnin", "relation": "spouse", "age": "၃၄"})
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["age"] == 34
    items = ItemForm({"item_type": "rifle", "count": "၁၂"})
    assert items.is_valid(), items.errors
    assert items.cleaned_data["count"] == 12
    # A value that is not a number is still refused, with a message.
    assert not ItemForm({"item_type": "rifle", "count": "၁x"}).is_valid()


@pytest.mark.django_db
def test_an_amount_a_month_and_a_case_code_in_myanmar_digits_are_read():
    source = FundingSourceFactory(currency="MMK")
    form = OneOffForm(
        {"kind": "medical", "amount": "၁၂,၀၀၀", "currency": "MMK", "funding_source": source.pk},
        funding_sources=FundingSource.objects.all(),
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == Decimal("12000")
    assert 'inputmode="decimal"' in str(form["amount"])
    filters = CaseFilterForm({"month": "၂၀၂၆-၁၁", "q": "HV-၂၀၂၆-၀၀၀၂၃"}).filters()
    assert (filters.month.year, filters.month.month) == (2026, 11)
    assert filters.query == "HV-2026-00023"


@pytest.mark.django_db
def test_a_service_number_in_myanmar_digits_is_the_same_number(make_staff):
    case = CaseFactory(service_number="PL-383057")
    assert list(Case.objects.filter(blind_index_filter(Case, "service_number", "PL-၃၈၃၀၅၇"))) == [
        case
    ]
    officer = make_staff(Role.INTAKE_OFFICER)
    with pytest.raises(case_services.DuplicateCaseError):
        case_services.case_intake(
            actor=officer,
            real_name="Ko Another Person",
            service_number="PL-၃၈၃၀၅၇",
            contact_date=timezone.localdate(),
            channel="phone",
            region="magway",
            force="police",
            rank="sergeant",
        )


@pytest.mark.django_db
def test_a_batch_closed_before_its_announcement_is_not_announced(make_staff):
    approver = make_staff(Role.FINANCE_APPROVER, email="approver@haven.example")
    StipendPlanFactory()
    officer = make_staff(Role.FINANCE_OFFICER)
    [batch] = payment_services.disbursement_run(
        period=timezone.localdate().replace(day=1), actor=officer
    )
    mail.outbox.clear()
    # The demo's past months: approved (and closed) before the queued announcement runs.
    batch = payment_services.batch_approve(batch=batch, actor=approver)
    assert batch.status == BatchStatus.APPROVED

    assert notify_batch_ready(batch.pk) == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_refused_page_is_one_info_line_without_a_traceback(login, make_staff, caplog):
    client = login(make_staff(Role.FINANCE_OFFICER))
    with caplog.at_level(logging.DEBUG):
        response = client.get("/cases/duplicates/")
    assert response.status_code == 403
    lines = [record for record in caplog.records if record.name == "django.request"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO and lines[0].exc_info is None
