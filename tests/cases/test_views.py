"""The case pages: the journey from first contact to verified through the browser, reveals,
evidence, the list's queries, stale edits, duplicates and bad input."""

from __future__ import annotations

import datetime
import itertools
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pghistory.models import Events

from accounts.roles import Role
from audit.models import AccessLog
from cases import services
from cases.choices import CheckResult, Status
from cases.models import Case, CaseNote, DuplicateDismissal, Evidence, FamilyMember, ItemBrought
from tests.factories import CaseFactory, PartnerFactory, add_to_team, assign_verifier

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
_numbers = itertools.count(1)


def url(name: str, case: Case | None = None, **kwargs) -> str:
    if case is not None:
        kwargs["pk"] = case.pk
    return reverse(f"cases:{name}", kwargs=kwargs or None)


def intake_form(**overrides) -> dict[str, str]:
    number = next(_numbers)
    data = {
        "real_name": f"Ko Zaw Min Htet {number}",
        "alias": "",
        "date_of_birth": "1994-03-12",
        "phone": "",
        "service_number": f"BA-{400000 + number}",
        "national_id": "",
        "contact_date": TODAY.isoformat(),
        "channel": "messaging",
        "region": "sagaing",
        "township": "Monywa",
        "force": "army",
        "rank": "corporal",
        "unit_type": "infantry",
        "unit": "",
        "defection_date": "",
        "urgency": "urgent",
        "risk_level": "high",
        "family_whereabouts": "",
        "intake_notes": "",
    }
    data.update(overrides)
    return data


def intake(actor, **fields) -> Case:
    defaults = {
        "real_name": f"Ko Aung Naing {next(_numbers)}",
        "service_number": f"BA-{500000 + next(_numbers)}",
        "date_of_birth": datetime.date(1990, 1, 5),
        "contact_date": TODAY,
        "channel": "phone",
        "region": "magway",
        "force": "army",
        "rank": "sergeant",
    }
    return services.case_intake(actor=actor, **{**defaults, **fields})


def ready_for_decision(case: Case, verifier) -> Case:
    case = services.case_start_verification(case=assign_verifier(case, verifier), actor=verifier)
    for check in case.checks.all():
        services.verification_check_record(check=check, actor=verifier, result=CheckResult.PASSED)
    return services.case_propose_decision(
        case=case, actor=verifier, decision=Status.VERIFIED, reason="All checks passed"
    )


# --- the "done when" journey -------------------------------------------------------------------


def test_a_case_goes_from_first_contact_to_verified_in_the_browser(
    login, intake_officer, verifier, case_manager, other_case_manager
):
    officer = login(intake_officer)
    response = officer.post(url("intake"), intake_form(real_name="Ko Thet Paing Oo"))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("intake_family", case)
    assert case.status == Status.INTAKE and case.intake_officer == intake_officer

    response = officer.post(
        url("intake_family", case),
        {"action": "add", "name": "Ma Sandar Moe", "relation": "spouse", "age": "29"},
    )
    assert response.status_code == 302
    response = officer.post(
        url("intake_items", case),
        {"action": "add", "item_type": "rifle", "count": "1", "handed_over_to": "Unit 3"},
    )
    assert response.status_code == 302
    review = officer.get(url("intake_review", case))
    assert "The draft is saved" in review.content.decode()
    assert FamilyMember.objects.filter(case=case).count() == 1
    assert ItemBrought.objects.get(case=case).category == "weapon"

    checker = login(verifier)
    assert checker.post(url("verify", case), {"action": "start"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.INTAKE  # nobody takes a case: a case manager assigns it
    assigner = login(other_case_manager)
    response = assigner.post(url("assign_verifier", case), {"verifier": verifier.pk}, follow=True)
    assert "The verifier is assigned" in response.content.decode()
    assert checker.post(url("verify", case), {"action": "start"}).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.verifier) == (Status.VERIFYING, verifier)
    checklist = {"action": "checks"}
    for check in case.checks.all():
        checklist[f"check-{check.pk}-result"] = "passed"
        checklist[f"check-{check.pk}-notes"] = "Seen in person"
    response = checker.post(url("verify", case), checklist)
    assert response.status_code == 302, response.content.decode()
    assert set(case.checks.values_list("result", flat=True)) == {CheckResult.PASSED}
    response = checker.post(
        url("verify", case),
        {"action": "propose", "propose-decision": "verified", "propose-reason": "All passed"},
    )
    assert response.status_code == 302

    manager = login(case_manager)
    decide_page = manager.get(url("decide", case)).content.decode()
    assert "All passed" in decide_page and "Seen in person" in decide_page
    response = manager.post(
        url("decide", case), {"decision": "verified", "reason": "Checks and interview agree"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.decided_by) == (Status.VERIFIED, case_manager)

    history = manager.get(url("history", case)).content.decode()
    for step in (
        "Case recorded at intake",
        "Family member added",
        "Item added",
        "Verification started",
        "Verification check recorded",
        "Decision proposed",
        "Case decided",
    ):
        assert step in history, step
    for username in (intake_officer.username, verifier.username, case_manager.username):
        assert username in history
    assert "Thet Paing" not in history and "Sandar" not in history and "hv1:" not in history
    assert "(encrypted value)" in history


@pytest.mark.parametrize("took_part_as", ["intake", "verification"])
def test_whoever_took_part_in_a_case_gets_the_four_eyes_refusal(
    login, make_staff, intake_officer, verifier, took_part_as
):
    both = make_staff(Role.CASE_MANAGER, Role.INTAKE_OFFICER, Role.VERIFIER)
    case = intake(both if took_part_as == "intake" else intake_officer)
    case = ready_for_decision(case, verifier if took_part_as == "intake" else both)
    response = login(both).post(url("decide", case), {"decision": "verified", "reason": "Fine"})
    assert response.status_code == 200
    assert "another case manager must decide it" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.VERIFYING and case.decided_by is None


def test_intake_officer_and_verifier_cannot_reach_the_decision(
    login, intake_officer, verifier, case_manager
):
    case = ready_for_decision(intake(intake_officer), verifier)
    for user in (intake_officer, verifier):
        response = login(user).post(url("decide", case), {"decision": "verified", "reason": "x"})
        assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == Status.VERIFYING


def test_decision_needs_a_reason(login, intake_officer, verifier, case_manager):
    case = ready_for_decision(intake(intake_officer), verifier)
    response = login(case_manager).post(url("decide", case), {"decision": "verified"})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.VERIFYING


def test_verifying_before_every_check_passed_is_refused(
    login, intake_officer, verifier, case_manager
):
    case = services.case_start_verification(
        case=assign_verifier(intake(intake_officer), verifier), actor=verifier
    )
    response = login(case_manager).post(
        url("decide", case), {"decision": "verified", "reason": "Looks fine"}
    )
    assert "Every check must have passed" in response.content.decode()


def test_the_whole_checklist_is_saved_at_once_or_not_at_all(intake_officer, verifier, login):
    case = services.case_start_verification(
        case=assign_verifier(intake(intake_officer), verifier), actor=verifier
    )
    checks = list(case.checks.order_by("pk"))
    client = login(verifier)
    data = {"action": "checks"}
    for check in checks:
        data[f"check-{check.pk}-result"] = "passed"
        data[f"check-{check.pk}-notes"] = ""
    data[f"check-{checks[-1].pk}-result"] = "perhaps"  # one bad value: nothing is saved
    response = client.post(url("verify", case), data)
    assert response.status_code == 200
    assert "Nothing was saved" in response.content.decode()
    assert set(case.checks.values_list("result", flat=True)) == {CheckResult.PENDING}

    data[f"check-{checks[-1].pk}-result"] = "failed"
    response = client.post(url("verify", case), data, follow=True)
    assert "4 checks changed" in response.content.decode()
    assert sorted(case.checks.values_list("result", flat=True)) == sorted(
        [CheckResult.PASSED] * 3 + [CheckResult.FAILED]
    )


def test_proposing_verified_with_open_checks_is_refused_with_their_names(
    intake_officer, verifier, login
):
    case = services.case_start_verification(
        case=assign_verifier(intake(intake_officer), verifier), actor=verifier
    )
    response = login(verifier).post(
        url("verify", case),
        {"action": "propose", "propose-decision": "verified", "propose-reason": "Fine"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Still open" in page and "Interview held" in page and "Background check" in page
    case.refresh_from_db()
    assert case.proposed_decision == ""


# --- reveal --------------------------------------------------------------------------------------


def test_reveal_shows_one_value_and_logs_it(login, verifier):
    case = assign_verifier(CaseFactory(real_name="Thura Aung Min"), verifier)
    client = login(verifier)
    page = client.get(url("identity", case)).content.decode()
    assert "*****" in page and "Thura Aung Min" not in page and "Th***" not in page
    assert url("reveal", case, field="real_name") in page

    response = client.post(url("reveal", case, field="real_name"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Thura Aung Min" in response.content.decode()
    assert "<html" not in response.content.decode()  # an htmx fragment
    assert "no-store" in response["Cache-Control"]
    entry = AccessLog.objects.get(action=AccessLog.Action.REVEAL)
    assert (entry.actor, entry.field, entry.target_label) == (verifier, "real_name", case.code)

    without_javascript = client.post(url("reveal", case, field="real_name"))
    assert without_javascript.status_code == 200
    assert "Thura Aung Min" in without_javascript.content.decode()
    assert AccessLog.objects.filter(action=AccessLog.Action.REVEAL).count() == 2


def test_a_get_never_reveals(login, verifier):
    case = CaseFactory(real_name="Thura Aung Min")
    response = login(verifier).get(url("reveal", case, field="real_name"))
    assert response.status_code == 302
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


def test_auditor_sees_masks_and_cannot_reveal(login, auditor):
    case = CaseFactory(real_name="Thura Aung Min")
    client = login(auditor)
    page = client.get(url("identity", case)).content.decode()
    assert "*****" in page
    assert "Thura" not in page and "Th***" not in page and "Reveal" not in page
    assert client.post(url("reveal", case, field="real_name")).status_code == 403
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


def test_only_known_fields_can_be_revealed(login, verifier):
    case = CaseFactory()
    response = login(verifier).post(url("reveal", case, field="data_key"))
    assert response.status_code == 404


def test_family_names_are_masked_with_a_logged_reveal(login, intake_officer, auditor):
    case = intake(intake_officer)
    member = services.family_member_add(
        case=case, actor=intake_officer, name="Daw Khin Mya", relation="parent", age=61
    )
    auditor_page = login(auditor).get(url("family", case)).content.decode()
    assert "*****" in auditor_page and "Khin" not in auditor_page and "Da***" not in auditor_page
    client = login(intake_officer)
    reveal = url("family_reveal", case, member_pk=member.pk, field="name")
    response = client.post(reveal, HTTP_HX_REQUEST="true")
    assert "Daw Khin Mya" in response.content.decode()
    assert AccessLog.objects.get(action=AccessLog.Action.REVEAL).field == "name"


# --- evidence ------------------------------------------------------------------------------------


def test_evidence_is_stored_encrypted_and_downloaded_through_a_logged_view(
    login, intake_officer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    case = intake(intake_officer)
    client = login(intake_officer)
    upload = SimpleUploadedFile("Zaw-Min-passport.png", PNG, content_type="image/png")
    response = client.post(url("evidence", case), {"kind": "identity_document", "file": upload})
    assert response.status_code == 302
    evidence = Evidence.objects.get(case=case)
    stored = (Path(tmp_path) / "evidence" / evidence.storage_name).read_bytes()
    assert b"\x89PNG" not in stored and PNG not in stored

    page = client.get(url("evidence", case)).content.decode()
    assert "Zaw-Min" not in page
    download = client.get(url("evidence_download", case, evidence_pk=evidence.pk))
    assert download.status_code == 200
    assert download.content == PNG
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == (
        f'attachment; filename="{case.code}-evidence-{evidence.pk}.png"'
    )
    assert "no-store" in download["Cache-Control"]
    entry = AccessLog.objects.get(action=AccessLog.Action.REVEAL)
    assert entry.field == f"evidence:{evidence.pk}"


def test_a_text_file_named_pdf_is_refused(login, intake_officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = intake(intake_officer)
    upload = SimpleUploadedFile("record.pdf", b"just some text", content_type="application/pdf")
    response = login(intake_officer).post(url("evidence", case), {"kind": "other", "file": upload})
    assert response.status_code == 200
    assert "Only PDF, JPEG and PNG" in response.content.decode()
    assert not Evidence.objects.exists()
    assert not (Path(tmp_path) / "evidence").exists()


def test_an_oversized_file_is_refused(login, intake_officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.HAVEN_EVIDENCE_MAX_BYTES = 100
    case = intake(intake_officer)
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    response = login(intake_officer).post(url("evidence", case), {"kind": "photo", "file": upload})
    assert "too large" in response.content.decode()
    assert not Evidence.objects.exists()


def test_evidence_of_another_case_is_not_found(login, intake_officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case, other = intake(intake_officer), intake(intake_officer)
    evidence = services.evidence_add(
        case=case,
        actor=intake_officer,
        kind="photo",
        upload=SimpleUploadedFile("a.png", PNG, content_type="image/png"),
    )
    response = login(intake_officer).get(url("evidence_download", other, evidence_pk=evidence.pk))
    assert response.status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


# --- the list ------------------------------------------------------------------------------------


def test_list_queries_do_not_grow_with_the_page_size(
    login, intake_officer, django_assert_max_num_queries
):
    client = login(intake_officer)
    cases = CaseFactory.create_batch(5, intake_officer=intake_officer)
    services.item_add(case=cases[0], actor=intake_officer, item_type="rifle", count=2)
    with CaptureQueriesContext(connection) as five:
        assert client.get(url("list")).status_code == 200
    CaseFactory.create_batch(25, intake_officer=intake_officer)
    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get(url("list"))
    assert response.content.decode().count('href="/cases/') >= 25 + 2  # rows and pages


def test_list_never_shows_identity(login, case_manager):
    case = CaseFactory(
        real_name="Zaw Min Htet",
        alias="Tiger",
        service_number="BA-777001",
        national_id="12/MaYaNa(N)123456",
        phone="+95 9 4501 2222",
    )
    add_to_team(case, case_manager)
    client = login(case_manager)
    protected = ("Zaw Min", "Tiger", "BA-777001", "123456", "4501")
    pages = [
        client.get(url("list")).content.decode(),
        client.post(url("list"), {"q": "BA-777001"}).content.decode(),
        client.post(url("list"), {"q": "ba 777001"}).content.decode(),
    ]
    for html in pages:
        assert case.code in html
        for value in protected:
            assert value not in html, value


def test_a_search_by_number_never_goes_into_the_address(login, case_manager):
    wanted = CaseFactory(service_number="BA-777002")
    other = CaseFactory()
    add_to_team(wanted, case_manager)
    client = login(case_manager)
    response = client.post(url("list"), {"q": "BA-777002"})
    assert response.status_code == 200  # answered on the spot, not redirected to a URL
    assert wanted.code in response.content.decode()
    assert other.code not in response.content.decode()
    by_code = client.post(url("list"), {"q": wanted.code, "status": "intake"})
    assert by_code.status_code == 302
    assert f"q={wanted.code}" in by_code["Location"]
    assert other.code not in client.get(by_code["Location"]).content.decode()
    # A number put into an address by hand is not used, nor written back into the page.
    ignored = client.get(url("list"), {"q": "BA-777002"}).content.decode()
    assert other.code in ignored and 'value="BA-777002"' not in ignored


def test_list_filters_and_ignores_bad_values(login, intake_officer):
    verifying = CaseFactory(intake_officer=intake_officer, force="police", region="mon")
    Case.objects.filter(pk=verifying.pk).update(status=Status.VERIFYING)
    other = CaseFactory(intake_officer=intake_officer, force="army")
    client = login(intake_officer)
    page = client.get(url("list"), {"status": "verifying", "force": "police"}).content.decode()
    assert verifying.code in page and other.code not in page
    page = client.get(
        url("list"),
        {"status": "bogus", "month": "2026-13", "weapons": "maybe", "page": "x", "region": "<b>"},
    )
    assert page.status_code == 200
    assert verifying.code in page.content.decode() and other.code in page.content.decode()


def test_list_filters_by_month_and_weapons(login, intake_officer):
    march = CaseFactory(intake_officer=intake_officer, contact_date=datetime.date(2025, 3, 14))
    april = CaseFactory(intake_officer=intake_officer, contact_date=datetime.date(2025, 4, 2))
    services.item_add(case=april, actor=intake_officer, item_type="pistol", count=1)
    client = login(intake_officer)
    page = client.get(url("list"), {"month": "2025-03"}).content.decode()
    assert march.code in page and april.code not in page
    page = client.get(url("list"), {"weapons": "yes"}).content.decode()
    assert april.code in page and march.code not in page


def test_pages_keep_the_filters(login, intake_officer):
    CaseFactory.create_batch(27, intake_officer=intake_officer, force="police")
    page = login(intake_officer).get(url("list"), {"force": "police"}).content.decode()
    assert "?force=police&amp;page=2" in page


# --- intake, edit and bad input ----------------------------------------------------------------


def test_a_repeated_service_number_blocks_intake_and_links_the_case(login, intake_officer):
    existing = intake(intake_officer, service_number="BA-123456")
    response = login(intake_officer).post(
        url("intake"), intake_form(real_name="Ko Ye Lin", service_number="ba 123456")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "already on file" in html
    assert existing.code in html and url("detail", existing) in html
    assert Case.objects.count() == 1
    assert 'value="Ko Ye Lin"' in html  # the input is kept


def test_the_same_name_and_birth_asks_for_a_confirmation(login, intake_officer):
    intake(intake_officer, real_name="Ko Min Thant", date_of_birth=datetime.date(1994, 3, 12))
    client = login(intake_officer)
    data = intake_form(real_name="Ko Min Thant", date_of_birth="1994-03-12")
    response = client.post(url("intake"), data)
    assert "Confirm this is a different person" in response.content.decode()
    assert "I have checked: this is a different person." in response.content.decode()
    assert Case.objects.count() == 1
    response = client.post(url("intake"), {**data, "confirmed_not_duplicate": "on"})
    assert response.status_code == 302
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "date_of_birth",
            (TODAY + datetime.timedelta(days=2)).isoformat(),
            "cannot be in the future",
        ),
        (
            "defection_date",
            (TODAY + datetime.timedelta(days=2)).isoformat(),
            "cannot be in the future",
        ),
        ("defection_date", "1990-01-01", "cannot be before the date of birth"),
        (
            "contact_date",
            (TODAY + datetime.timedelta(days=1)).isoformat(),
            "cannot be in the future",
        ),
        ("date_of_birth", "1994-02-31", "Enter a valid date"),
        ("real_name", "", "This field is required"),
        ("force", "navy", "Select a valid choice"),
    ],
)
def test_intake_refuses_bad_input_with_a_field_message(
    login, intake_officer, field, value, message
):
    response = login(intake_officer).post(url("intake"), intake_form(**{field: value}))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert f'id="id_{field}-errors"' in html
    assert not Case.objects.exists()


def test_negative_age_and_count_are_refused(login, intake_officer):
    case = intake(intake_officer)
    client = login(intake_officer)
    response = client.post(
        url("intake_family", case),
        {"action": "add", "name": "Mg Hein", "relation": "child", "age": "-1"},
    )
    assert "Age cannot be negative" in response.content.decode()
    response = client.post(
        url("intake_items", case), {"action": "add", "item_type": "rifle", "count": "-3"}
    )
    assert "The count must be at least 1" in response.content.decode()
    assert not FamilyMember.objects.exists() and not ItemBrought.objects.exists()


def test_family_and_items_can_be_removed(login, intake_officer):
    case = intake(intake_officer)
    member = services.family_member_add(
        case=case, actor=intake_officer, name="Ma Ei", relation="child"
    )
    item = services.item_add(case=case, actor=intake_officer, item_type="radio", count=1)
    client = login(intake_officer)
    client.post(url("intake_family", case), {"action": "remove", "member": member.pk})
    client.post(url("intake_items", case), {"action": "remove", "item": item.pk})
    assert not FamilyMember.objects.exists() and not ItemBrought.objects.exists()


def test_a_stale_edit_is_refused_and_keeps_the_input(login, intake_officer, case_manager):
    case = intake(intake_officer, township="Pakokku")
    client = login(intake_officer)
    page = client.get(url("edit", case)).content.decode()
    assert f'name="version" value="{case.version}"' in page
    form = intake_form(
        real_name=case.real_name,
        service_number=case.service_number,
        date_of_birth="1990-01-05",
        channel="phone",
        region="magway",
        township="Hpa-an",
        rank="sergeant",
        unit_type="",
        urgency="routine",
        risk_level="medium",
        version=str(case.version),
    )
    add_to_team(case, case_manager)
    services.case_update(case=case, actor=case_manager, version=case.version, township="Kalay")
    response = client.post(url("edit", case), form)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else changed this case" in html
    assert 'value="Hpa-an"' in html
    case.refresh_from_db()
    assert case.township == "Kalay"


def test_opening_the_edit_form_is_a_logged_reveal(login, intake_officer):
    case = intake(intake_officer)
    login(intake_officer).get(url("edit", case))
    fields = set(
        AccessLog.objects.filter(action=AccessLog.Action.REVEAL).values_list("field", flat=True)
    )
    assert {"real_name", "service_number", "date_of_birth"} <= fields


def test_an_edit_saves_only_what_changed(login, intake_officer):
    case = intake(intake_officer, township="Pakokku")
    form = intake_form(
        real_name=case.real_name,
        service_number=case.service_number,
        date_of_birth="1990-01-05",
        channel="phone",
        region="magway",
        township="Pakokku",
        rank="sergeant",
        unit_type="",
        urgency="routine",
        risk_level="medium",
        version=str(case.version),
        defection_date=(TODAY - datetime.timedelta(days=3)).isoformat(),
    )
    response = login(intake_officer).post(url("edit", case), form)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.defection_date == TODAY - datetime.timedelta(days=3)
    assert case.version == 2
    last_change = Events.objects.tracks(case).order_by("-pgh_id").first()
    assert set(last_change.pgh_diff) <= {
        "defection_date",
        "defection_month",
        "version",
        "updated_at",
    }


def test_the_verifier_cannot_edit(login, verifier):
    assert login(verifier).get(url("edit", CaseFactory())).status_code == 403


# --- withdraw, re-open, journey, referrals, notes, duplicates ---------------------------------


def test_withdraw_and_reopen_with_reasons(login, intake_officer, case_manager):
    case = intake(intake_officer)
    officer = login(intake_officer)
    response = officer.post(url("withdraw", case), {"reason": ""})
    assert "This field is required" in response.content.decode()
    officer.post(url("withdraw", case), {"reason": "No longer reachable"})
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN
    assert officer.post(url("reopen", case), {"reason": "Back"}).status_code == 403
    login(case_manager).post(url("reopen", case), {"reason": "Called again"})
    case.refresh_from_db()
    assert case.status == Status.INTAKE


def test_journey_stage_and_emergency(login, intake_officer, case_manager):
    case = intake(intake_officer)
    client = login(case_manager)
    client.post(url("journey", case), {"action": "stage", "stage": "in_transit", "reason": "Left"})
    response = client.post(
        url("journey", case), {"action": "emergency", "emergency": "on", "reason": ""}
    )
    assert "This field is required" in response.content.decode()
    client.post(
        url("journey", case), {"action": "emergency", "emergency": "on", "reason": "Checkpoint"}
    )
    case.refresh_from_db()
    assert case.journey_stage == "in_transit" and case.emergency
    response = client.post(url("journey", case), {"action": "stage", "stage": "in_transit"})
    assert "already at that stage" in response.content.decode()
    assert (
        login(intake_officer)
        .post(url("journey", case), {"action": "stage", "stage": "arrived"})
        .status_code
        == 403
    )


def test_safety_plan_is_the_teams_logged_and_refuses_a_stale_save(
    login, intake_officer, case_manager, other_case_manager
):
    case = intake(intake_officer)
    client = login(case_manager)
    plan = {"version": case.version, "safety_plan": "Move at night"}
    # Not on the case's team: neither written nor shown.
    response = client.post(url("safety_plan", case), plan)
    assert "Ask its case manager to add you" in response.content.decode()
    case.refresh_from_db()
    assert not case.safety_plan
    services.case_assign_case_manager(
        case=case, actor=other_case_manager, case_manager=case_manager
    )
    case.refresh_from_db()
    client.post(url("safety_plan", case), {**plan, "version": case.version})
    case.refresh_from_db()
    assert case.safety_plan == "Move at night"
    page = client.get(url("safety_plan", case)).content.decode()
    assert "Move at night" in page
    assert AccessLog.objects.filter(action=AccessLog.Action.REVEAL, field="safety_plan").exists()
    response = client.post(
        url("safety_plan", case), {"version": case.version - 1, "safety_plan": "Old"}
    )
    assert "Someone else changed this case" in response.content.decode()


def test_referrals_are_created_and_move_on(login, intake_officer, case_manager):
    case = intake(intake_officer)
    client = login(case_manager)
    client.post(
        url("referrals", case),
        {
            "action": "create",
            "partner": PartnerFactory(name="Fictional Clinic").pk,
            "purpose": "Wound",
        },
    )
    referral = case.referrals.get()
    prefix = f"referral-{referral.pk}"
    client.post(
        url("referrals", case),
        {"action": "status", "referral": referral.pk, f"{prefix}-status": "sent"},
    )
    referral.refresh_from_db()
    assert referral.status == "sent"
    response = client.post(
        url("referrals", case),
        {"action": "status", "referral": referral.pk, f"{prefix}-status": "completed"},
        follow=True,
    )
    assert "cannot become" in response.content.decode()


def test_notes_are_read_by_case_workers_and_counted_for_auditors(
    login, intake_officer, verifier, auditor
):
    case = intake(intake_officer)
    # A verifier not on the case's team neither writes nor reads its notes.
    outsider = login(verifier)
    assert outsider.post(url("notes", case), {"text": "Spoke with his brother"}).status_code == 200
    assert not CaseNote.objects.exists()
    assign_verifier(case, verifier)
    outsider.post(url("notes", case), {"text": "Spoke with his brother"})
    assert CaseNote.objects.get().author == verifier
    assert (
        "Spoke with his brother" in login(intake_officer).get(url("notes", case)).content.decode()
    )
    auditor_client = login(auditor)
    auditor_page = auditor_client.get(url("notes", case)).content.decode()
    assert "Spoke" not in auditor_page and "1 note" in auditor_page
    assert auditor_client.post(url("notes", case), {"text": "x"}).status_code == 403


def test_possible_duplicates_can_be_dismissed(login, intake_officer, case_manager):
    born = datetime.date(1991, 6, 1)
    first = CaseFactory(real_name="Ko Min Thant", date_of_birth=born, intake_officer=intake_officer)
    second = CaseFactory(real_name="Min Thant", date_of_birth=born, intake_officer=intake_officer)
    client = login(case_manager)
    page = client.get(url("duplicates")).content.decode()
    assert first.code in page and second.code in page
    assert "Same name and date of birth" in page
    prefix = f"pair-{first.pk}-{second.pk}"
    response = client.post(
        url("duplicates"), {"first": first.pk, "second": second.pk, f"{prefix}-reason": ""}
    )
    assert "This field is required" in response.content.decode()
    client.post(
        url("duplicates"),
        {"first": first.pk, "second": second.pk, f"{prefix}-reason": "Different birth dates"},
    )
    assert DuplicateDismissal.objects.filter(first_case=first, second_case=second).exists()
    assert url("detail", first) not in client.get(url("duplicates")).content.decode()


def test_a_case_page_lists_the_cases_found_to_be_other_people_and_why_only_to_its_team(
    login, intake_officer, case_manager, make_staff
):
    first, second = (CaseFactory(intake_officer=intake_officer) for _ in range(2))
    services.duplicate_dismiss(
        first=first, second=second, actor=case_manager, reason="Different birth dates"
    )
    # The case manager is on neither team: the pair, not the reason.
    outside = login(case_manager).get(url("detail", first)).content.decode()
    assert second.code in outside and "Different birth dates" not in outside
    assert "(hidden text)" in outside
    # Who took both in is on both teams.
    officer_client = login(intake_officer)
    inside = officer_client.get(url("detail", second)).content.decode()
    assert first.code in inside and "Different birth dates" in inside
    # On one case's team only: the reason is about the other person too, so it stays hidden.
    other_officer = make_staff(Role.INTAKE_OFFICER)
    third = CaseFactory(intake_officer=other_officer)
    services.duplicate_dismiss(
        first=first, second=third, actor=case_manager, reason="Other unit and birth year"
    )
    one_team = login(other_officer).get(url("detail", third)).content.decode()
    assert first.code in one_team and "Other unit and birth year" not in one_team
    assert "(hidden text)" in one_team
    both_teams = officer_client.get(url("detail", first)).content.decode()
    assert "Different birth dates" in both_teams and "Other unit and birth year" not in both_teams


def test_navigation_shows_the_case_pages_by_role(login, intake_officer, case_manager):
    officer_home = login(intake_officer).get("/").content.decode()
    assert 'href="/cases/"' in officer_home and "/cases/duplicates/" not in officer_home
    manager_home = login(case_manager).get("/").content.decode()
    assert "/cases/duplicates/" in manager_home


def test_refusals_of_the_services_are_messages_not_errors(login, intake_officer, verifier):
    case = assign_verifier(intake(intake_officer), verifier)
    client = login(verifier)
    client.post(url("verify", case), {"action": "start"})
    response = client.post(url("verify", case), {"action": "start"}, follow=True)
    assert response.status_code == 200
    assert "Only a case in intake can go to verification." in response.content.decode()
    officer = login(intake_officer)
    response = officer.get(url("edit", case), follow=True)
    assert "Only a case manager can edit a case after intake." in response.content.decode()
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()
    response = officer.post(
        url("intake_family", case), {"action": "add", "name": "Ma Ei", "relation": "child"}
    )
    assert "only a case manager can change family and items" in response.content.decode()


def test_a_proposal_needs_a_reason(login, intake_officer, verifier):
    case = services.case_start_verification(
        case=assign_verifier(intake(intake_officer), verifier), actor=verifier
    )
    response = login(verifier).post(
        url("verify", case), {"action": "propose", "propose-decision": "rejected"}
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    case.refresh_from_db()
    assert case.proposed_decision == ""


def test_those_who_may_not_reveal_see_region_and_month_not_township_and_day(
    login, auditor, intake_officer, case_manager
):
    """Masks that hide: beside the coarse facts, a township, a unit type and an exact date come
    close to a name for someone holding the army's lists."""
    case = intake(intake_officer, township="Pakokku", contact_date=datetime.date(2026, 3, 14))
    add_to_team(case, case_manager)
    services.case_update(case=case, actor=case_manager, version=case.version, township="Kalay")
    client = login(auditor)
    for page in (
        client.get(url("detail", case)).content.decode(),
        client.get(reverse("cases:list")).content.decode(),
        client.get(url("history", case)).content.decode(),
        client.get(reverse("audit:audit_trail")).content.decode(),
    ):
        assert "Pakokku" not in page and "Kalay" not in page
        for day in ("March 14", "Mar. 14", "14 March", "14 Mar", "2026-03-14", "14/03/2026"):
            assert day not in page
    assert "March 2026" in client.get(url("detail", case)).content.decode()
    revealer = login(case_manager).get(url("detail", case)).content.decode()
    assert "Kalay" in revealer and "14 Mar 2026" in revealer


def test_a_case_list_row_shows_its_facts_in_the_readers_language(login, make_staff):
    from django.utils import translation

    case = CaseFactory(
        emergency=True, emergency_since=timezone.now(), contact_date=datetime.date(2026, 3, 14)
    )
    ItemBrought.objects.create(
        case=case,
        category="weapon",
        item_type=ItemBrought._meta.get_field("item_type").choices[0][0],
        count=1,
        recorded_by=make_staff(Role.INTAKE_OFFICER),
    )
    english = login(make_staff(Role.CASE_MANAGER)).get(reverse("cases:list")).content.decode()
    row = english.split(f'<a href="/cases/{case.pk}/">{case.code}</a>', 1)[1].split("</tr>", 1)[0]
    assert 'badge text-bg-danger">Emergency</span>' in row
    assert case.get_status_display() in row and "March 2026" in row
    for fact in (
        case.get_force_display(),
        case.get_rank_group_display(),
        case.get_region_display(),
    ):
        assert f'<td class="d-none d-md-table-cell">{fact}</td>' in row
    assert row.rstrip().endswith('<td class="d-none d-md-table-cell">yes</td>')
    burmese = login(make_staff(Role.CASE_MANAGER, preferred_language="my"))
    page = burmese.get(reverse("cases:list")).content.decode()
    with translation.override("my"):
        assert f'badge text-bg-danger">{translation.gettext("Emergency")}</span>' in page
        assert translation.gettext("Emergency") != "Emergency"
