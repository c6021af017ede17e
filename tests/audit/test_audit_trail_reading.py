"""The audit trail reads as people speak: records by their labels, people by name, dates in
local time in one format, filters by person, case, date range and action (its pages:
test_audit_trail_paging.py)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.roles import Role
from cases import services as case_services
from payments import services as payment_services
from tests.factories import StipendPlanFactory, VerifiedCaseFactory, assign_verifier

pytestmark = pytest.mark.django_db

AUDIT = "/accounts/audit/"


def test_records_by_label_people_by_name_dates_in_local_time(login, auditor, make_staff):
    officer = make_staff(Role.FINANCE_OFFICER, first_name="Hnin", last_name="Wai")
    plan = StipendPlanFactory(case=VerifiedCaseFactory(code="HV-2026-00023"))
    period = timezone.localdate().replace(day=1)
    payment_services.disbursement_run(period=period, actor=officer)
    manager = make_staff(Role.CASE_MANAGER, first_name="Aye", last_name="Chan")
    verifier = make_staff(Role.VERIFIER)
    case = assign_verifier(
        case_services.case_intake(
            actor=make_staff(Role.INTAKE_OFFICER),
            real_name="Ko Secret Name",
            contact_date=timezone.localdate(),
            channel="phone",
            region="magway",
            force="army",
            rank="sergeant",
        ),
        verifier,
    )
    case_services.case_start_verification(case=case, actor=verifier)

    client = login(auditor)
    page = client.get(AUDIT).content.decode()
    assert f"Payment {plan.case.code}, {period:%Y-%m}" in page
    assert "Hnin Wai" in page  # who ran the batch, by name
    # The verifier named on the case, by name rather than by number.
    assert f"— → {verifier.get_full_name() or verifier.username}" in page
    assert "— → " + str(verifier.pk) + "<" not in page
    assert "Ko Secret Name" not in page
    assert f"Case {case.code}" in page  # the case by its code, not its database number
    # Times inside the change lists are local and written the one way ("6 Dec 2026 14:05").
    check = case.checks.first()
    check = case_services.verification_check_record(check=check, actor=verifier, result="passed")
    page = client.get(AUDIT, {"case": case.code}).content.decode()
    local = timezone.localtime(check.checked_at)
    assert f"{local.day} {local:%b %Y %H:%M}" in page
    assert check.checked_at.astimezone(datetime.UTC).isoformat()[:16] not in page
    # Choices by their labels and yes or no, as on the case's own history page.
    assert "Not done yet → Passed" in page and "pending → passed" not in page
    assert manager  # a case manager exists; nothing of theirs is in this case's trail
    assert "Aye Chan" not in page


def test_values_read_the_same_in_the_audit_trail_and_a_case_history():
    """One way to write a history value (audit.history.readable_value): yes or no, a choice's
    label, a time in local time, whether the history kept it with its offset or without."""
    from audit.history import readable_value
    from cases.models import Case, VerificationCheck

    emergency = Case._meta.get_field("emergency")
    assert (readable_value(emergency, "True"), readable_value(emergency, "False")) == ("yes", "no")
    result = VerificationCheck._meta.get_field("result")
    assert readable_value(result, "failed") == "Failed"
    checked_at = VerificationCheck._meta.get_field("checked_at")
    with timezone.override("Asia/Yangon"):
        assert readable_value(checked_at, "2026-12-06T07:30:00+00:00") == "6 Dec 2026 14:00"
        assert readable_value(checked_at, "2026-12-06T07:30:00") == "6 Dec 2026 14:00"
    assert readable_value(checked_at, "") == ""


def test_filters_by_person_case_date_range_and_action(login, auditor, make_staff):
    officer = make_staff(Role.FINANCE_OFFICER, username="finance-hnin")
    other = make_staff(Role.FINANCE_OFFICER, username="finance-other")
    first, second = StipendPlanFactory(created_by=officer), StipendPlanFactory(created_by=other)
    client = login(auditor)

    by_case = client.get(AUDIT, {"case": first.case.code.lower()}).content.decode()
    assert first.case.code in by_case and second.case.code not in by_case

    created = client.get(AUDIT, {"action": "insert", "model": "cases.Case"}).content.decode()
    assert "Changed" not in created.split("<tbody>")[1]

    today = timezone.localdate()
    future = client.get(AUDIT, {"start": (today + datetime.timedelta(days=1)).isoformat()})
    assert "No changes recorded yet." in future.content.decode()
    today_only = client.get(AUDIT, {"start": today.isoformat(), "end": today.isoformat()})
    assert first.case.code in today_only.content.decode()


@pytest.mark.parametrize(
    "query, message",
    [
        ({"who": "nobody-by-that-name"}, "No member of staff has that user name."),
        ({"case": "HV-1999-00001"}, "No case has that code."),
        ({"start": "2026-12-06", "end": "2026-12-01"}, "The end of the range is before its start."),
        ({"start": "6/13/2026"}, "Enter a valid date."),
    ],
)
def test_a_wrong_filter_is_said_and_shows_nothing(login, auditor, query, message):
    VerifiedCaseFactory()
    response = login(auditor).get(AUDIT, query)
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert "No changes recorded yet." in page
