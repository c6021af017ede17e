"""The case workflow: every transition allowed and refused, four-eyes, duplicates, evidence."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessLog
from cases import services
from cases.choices import CheckResult, JourneyStage, Status
from cases.models import Case, Evidence, JourneyEvent, VerificationCheck
from protection.erasure import destroy_data_key
from protection.keys import ERASED, Ciphertext
from tests.factories import add_to_team, assign_verifier

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


_names = itertools.count(1)


def intake(actor, **fields):
    defaults = {
        "real_name": f"Ko Zaw Min Htet {next(_names)}",
        "service_number": "BA-123456",
        "date_of_birth": datetime.date(1995, 4, 2),
        "contact_date": TODAY,
        "channel": "messaging",
        "region": "sagaing",
        "force": "army",
        "rank": "corporal",
    }
    return services.case_intake(actor=actor, **{**defaults, **fields})


def verified_ready(case, verifier):
    case = services.case_start_verification(case=assign_verifier(case, verifier), actor=verifier)
    for check in VerificationCheck.objects.filter(case=case):
        services.verification_check_record(check=check, actor=verifier, result=CheckResult.PASSED)
    return services.case_propose_decision(
        case=case, actor=verifier, decision=Status.VERIFIED, reason="All checks passed"
    )


# --- intake -------------------------------------------------------------------------------------


def test_intake_allocates_consecutive_codes_of_the_year(intake_officer):
    first = intake(intake_officer, service_number="A-1")
    second = intake(intake_officer, service_number="A-2")
    year = TODAY.year
    assert first.code == f"HV-{year}-00001"
    assert second.code == f"HV-{year}-00002"
    assert first.status == Status.INTAKE
    assert first.intake_officer == intake_officer
    assert VerificationCheck.objects.filter(case=first).count() == 4


def test_a_failed_intake_gives_its_code_back(intake_officer):
    intake(intake_officer, service_number="A-1")
    with pytest.raises(services.CaseError):
        intake(
            intake_officer, service_number="A-2", defection_date=TODAY + datetime.timedelta(days=3)
        )
    third = intake(intake_officer, service_number="A-3")
    assert third.code.endswith("-00002")


def test_each_case_has_its_own_data_key(intake_officer):
    first = intake(intake_officer, service_number="A-1")
    second = intake(intake_officer, service_number="A-2", real_name="Ma Thiri Aye")
    assert first.data_key_id != second.data_key_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT real_name, service_number FROM cases_case WHERE id = %s", [first.pk])
        stored = cursor.fetchone()
    assert all(value.startswith(f"hv1:{first.data_key_id}:") for value in stored)
    assert "Zaw" not in stored[0] and "123456" not in stored[1]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"real_name": " "}, "real name"),
        ({"contact_date": TODAY + datetime.timedelta(days=1)}, "first contact"),
        (
            {"defection_date": TODAY + datetime.timedelta(days=1)},
            "defection cannot be in the future",
        ),
        ({"date_of_birth": TODAY + datetime.timedelta(days=1)}, "birth cannot be in the future"),
        (
            {
                "date_of_birth": datetime.date(2000, 1, 1),
                "defection_date": datetime.date(1999, 1, 1),
            },
            "before the date of birth",
        ),
        ({"nickname": "x"}, "Unknown fields"),
    ],
)
def test_bad_intake_is_refused_and_saves_nothing(intake_officer, fields, message):
    with pytest.raises(services.CaseError, match=message):
        intake(intake_officer, **fields)
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    "role", [Role.VERIFIER, Role.HOUSING_COORDINATOR, Role.FINANCE_OFFICER, Role.AUDITOR]
)
def test_only_intake_roles_record_cases(make_staff, role):
    with pytest.raises(PermissionDenied):
        intake(make_staff(role))


# --- duplicates --------------------------------------------------------------------------------


def test_same_service_number_blocks_intake_and_names_the_case(intake_officer):
    existing = intake(intake_officer, service_number="BA-123456")
    with pytest.raises(services.DuplicateCaseError) as refused:
        intake(intake_officer, real_name="Someone Else", service_number=" ba 123-456 ")
    assert refused.value.matches == [existing]
    assert Case.objects.count() == 1


def test_same_national_id_blocks_intake(intake_officer):
    intake(intake_officer, service_number="", national_id="12/MaYaKa(N)123456")
    with pytest.raises(services.DuplicateCaseError):
        intake(
            intake_officer, service_number="", national_id="12/mayaka(n)123456", real_name="Other"
        )


def test_same_name_and_birth_warns_until_confirmed(intake_officer):
    intake(intake_officer, real_name="Ko Zaw Min Htet", service_number="A-1")
    # Honorifics, case and spacing do not hide a match.
    with pytest.raises(services.PossibleDuplicateWarning):
        intake(intake_officer, real_name="zaw min htet", service_number="A-2")
    confirmed = intake(
        intake_officer, real_name="zaw min htet", service_number="A-2", confirmed_not_duplicate=True
    )
    assert confirmed.pk


def test_update_cannot_take_another_cases_service_number(intake_officer):
    intake(intake_officer, service_number="A-1")
    second = intake(intake_officer, service_number="A-2", real_name="Ma Aye Aye")
    with pytest.raises(services.DuplicateCaseError):
        services.case_update(
            case=second, actor=intake_officer, version=second.version, service_number="a1"
        )


def test_not_a_duplicate_is_recorded_once(intake_officer, case_manager):
    first = intake(intake_officer, service_number="A-1")
    second = intake(intake_officer, service_number="A-2")
    services.duplicate_dismiss(
        first=second, second=first, actor=case_manager, reason="Different units"
    )
    with pytest.raises(services.CaseError, match="already marked"):
        services.duplicate_dismiss(first=first, second=second, actor=case_manager, reason="Again")
    with pytest.raises(PermissionDenied):
        services.duplicate_dismiss(first=first, second=second, actor=intake_officer, reason="x")


# --- edits -------------------------------------------------------------------------------------


def test_stale_edit_is_refused(intake_officer):
    case = intake(intake_officer)
    opened_version = case.version
    services.case_update(case=case, actor=intake_officer, version=opened_version, township="Monywa")
    with pytest.raises(services.StaleEditError):
        services.case_update(
            case=case, actor=intake_officer, version=opened_version, township="Kale"
        )
    case.refresh_from_db()
    assert case.township == "Monywa"


def test_intake_officer_cannot_edit_after_intake(intake_officer, verifier):
    case = services.case_start_verification(
        case=assign_verifier(intake(intake_officer), verifier), actor=verifier
    )
    with pytest.raises(services.CaseError, match="Only a case manager"):
        services.case_update(case=case, actor=intake_officer, version=case.version, township="Kale")


# --- verification and decision -------------------------------------------------------------------


def test_full_path_to_verified_by_an_independent_case_manager(
    intake_officer, verifier, case_manager
):
    case = verified_ready(intake(intake_officer), verifier)
    case = services.case_decide(
        case=case, actor=case_manager, decision=Status.VERIFIED, reason="Confirmed"
    )
    assert case.status == Status.VERIFIED
    assert case.decided_by == case_manager
    assert case.case_manager is None  # deciding puts nobody on the case
    assert case.decided_at is not None


def test_intake_officer_cannot_decide_own_case(make_staff, verifier):
    manager_who_took_it_in = make_staff(Role.CASE_MANAGER, Role.INTAKE_OFFICER)
    case = verified_ready(intake(manager_who_took_it_in), verifier)
    with pytest.raises(services.CaseError, match="You took this case in"):
        services.case_decide(
            case=case, actor=manager_who_took_it_in, decision=Status.VERIFIED, reason="x"
        )
    assert Case.objects.get(pk=case.pk).status == Status.VERIFYING


def test_verifier_cannot_decide_a_case_they_verified(make_staff, intake_officer):
    verifying_manager = make_staff(Role.CASE_MANAGER, Role.VERIFIER)
    case = verified_ready(intake(intake_officer), verifying_manager)
    with pytest.raises(services.CaseError, match="worked on the verification"):
        services.case_decide(
            case=case, actor=verifying_manager, decision=Status.REJECTED, reason="x"
        )


def test_anyone_who_recorded_a_check_cannot_decide(make_staff, intake_officer, verifier):
    helper = make_staff(Role.CASE_MANAGER, Role.VERIFIER)
    case = services.case_start_verification(
        case=assign_verifier(intake(intake_officer), verifier), actor=verifier
    )
    check = VerificationCheck.objects.filter(case=case).first()
    # Only the team records checks: a verifier elsewhere is refused, and changes nothing.
    with pytest.raises(services.CaseError, match="Only the case's team"):
        services.verification_check_record(check=check, actor=helper, result=CheckResult.PASSED)
    check.refresh_from_db()
    assert check.result == CheckResult.PENDING
    add_to_team(case, helper)
    services.verification_check_record(check=check, actor=helper, result=CheckResult.PASSED)
    with pytest.raises(services.CaseError, match="worked on the verification"):
        services.case_decide(case=case, actor=helper, decision=Status.REJECTED, reason="x")


def test_database_refuses_a_decision_by_the_intake_officer_even_bypassing_services(
    intake_officer, verifier
):
    case = verified_ready(intake(intake_officer), verifier)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(
            status=Status.VERIFIED,
            decided_by=intake_officer,
            decided_at=timezone.now(),
            decision_reason=Ciphertext("hv1:1:x"),
        )


def test_database_refuses_a_decision_without_reason(intake_officer, verifier, case_manager):
    case = verified_ready(intake(intake_officer), verifier)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(
            status=Status.VERIFIED,
            decided_by=case_manager,
            decided_at=timezone.now(),
            decision_reason=None,
        )


def test_decision_needs_a_reason_and_passed_checks(intake_officer, verifier, case_manager):
    case = services.case_start_verification(
        case=assign_verifier(intake(intake_officer), verifier), actor=verifier
    )
    with pytest.raises(services.CaseError, match="needs a reason"):
        services.case_decide(case=case, actor=case_manager, decision=Status.VERIFIED, reason="  ")
    with pytest.raises(services.CaseError, match="Every check must have passed"):
        services.case_decide(case=case, actor=case_manager, decision=Status.VERIFIED, reason="ok")
    rejected = services.case_decide(
        case=case, actor=case_manager, decision=Status.REJECTED, reason="Unconfirmed"
    )
    assert rejected.status == Status.REJECTED


@pytest.mark.parametrize(
    "status", [Status.INTAKE, Status.VERIFIED, Status.REJECTED, Status.WITHDRAWN]
)
def test_only_a_case_under_verification_can_be_decided(
    intake_officer, verifier, case_manager, other_case_manager, status
):
    case = intake(intake_officer)
    if status == Status.VERIFIED:
        case = services.case_decide(
            case=verified_ready(case, verifier), actor=case_manager, decision=status, reason="ok"
        )
    elif status == Status.REJECTED:
        case = services.case_start_verification(
            case=assign_verifier(case, verifier), actor=verifier
        )
        case = services.case_decide(case=case, actor=case_manager, decision=status, reason="no")
    elif status == Status.WITHDRAWN:
        case = services.case_withdraw(case=case, actor=intake_officer, reason="Changed their mind")
    with pytest.raises(services.CaseError, match="Only a case under verification"):
        services.case_decide(
            case=case, actor=other_case_manager, decision=Status.VERIFIED, reason="again"
        )


def test_verification_starts_only_from_intake(intake_officer, verifier):
    case = services.case_start_verification(
        case=assign_verifier(intake(intake_officer), verifier), actor=verifier
    )
    with pytest.raises(services.CaseError):
        services.case_start_verification(case=case, actor=verifier)
    with pytest.raises(PermissionDenied):
        services.case_start_verification(
            case=intake(intake_officer, service_number="B-2", real_name="Ma Su"),
            actor=intake_officer,
        )


def test_checks_only_while_verifying(intake_officer, verifier):
    case = intake(intake_officer)
    check = VerificationCheck.objects.filter(case=case).first()
    with pytest.raises(services.CaseError):
        services.verification_check_record(check=check, actor=verifier, result=CheckResult.PASSED)


def test_withdraw_and_reopen(intake_officer, verifier, case_manager):
    case = services.case_start_verification(
        case=assign_verifier(intake(intake_officer), verifier), actor=verifier
    )
    with pytest.raises(services.CaseError, match="Only a case manager can withdraw"):
        services.case_withdraw(case=case, actor=intake_officer, reason="x")
    with pytest.raises(services.CaseError, match="reason"):
        services.case_withdraw(case=case, actor=case_manager, reason="")
    case = services.case_withdraw(case=case, actor=case_manager, reason="Lost contact for months")
    assert case.status == Status.WITHDRAWN
    with pytest.raises(services.CaseError):
        services.case_withdraw(case=case, actor=case_manager, reason="again")
    with pytest.raises(PermissionDenied):
        services.case_reopen(case=case, actor=intake_officer, reason="Back in touch")
    case = services.case_reopen(case=case, actor=case_manager, reason="Back in touch")
    assert case.status == Status.INTAKE
    assert case.verifier is None
    assert (
        not VerificationCheck.objects.filter(case=case).exclude(result=CheckResult.PENDING).exists()
    )
    with pytest.raises(services.CaseError):
        services.case_reopen(case=case, actor=case_manager, reason="again")


# --- journey, emergency, details ------------------------------------------------------------------


def test_stage_and_emergency_changes_are_recorded_with_time(intake_officer, case_manager):
    case = intake(intake_officer)
    services.case_set_stage(case=case, actor=case_manager, stage=JourneyStage.IN_TRANSIT)
    case = services.case_set_emergency(
        case=case, actor=case_manager, emergency=True, reason="Family threatened"
    )
    assert case.emergency and case.emergency_since is not None
    case = services.case_set_emergency(
        case=case, actor=case_manager, emergency=False, reason="Moved"
    )
    assert case.emergency_since is None
    kinds = list(
        JourneyEvent.objects.filter(case=case).order_by("at", "pk").values_list("kind", "stage")
    )
    assert kinds == [("stage", "in_transit"), ("emergency_on", ""), ("emergency_off", "")]
    with pytest.raises(PermissionDenied):
        services.case_set_stage(case=case, actor=intake_officer, stage=JourneyStage.ARRIVED)
    with pytest.raises(services.CaseError):
        services.case_set_emergency(case=case, actor=case_manager, emergency=False, reason="again")


def test_family_and_items_belong_to_the_case_key(intake_officer):
    case = intake(intake_officer)
    member = services.family_member_add(
        case=case, actor=intake_officer, name="Daw Khin Mya", relation="parent", age=61
    )
    assert member.data_key_id == case.data_key_id
    item = services.item_add(case=case, actor=intake_officer, item_type="rifle", count=2)
    assert item.category == "weapon"
    with pytest.raises(services.CaseError, match="at least 1"):
        services.item_add(case=case, actor=intake_officer, item_type="rifle", count=0)
    with pytest.raises(services.CaseError, match="between 0 and 120"):
        services.family_member_add(
            case=case, actor=intake_officer, name="X", relation="child", age=-1
        )


# --- evidence and erasure -------------------------------------------------------------------------


def test_evidence_is_encrypted_on_disk_and_opening_it_is_logged(
    intake_officer, verifier, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    case = intake(intake_officer)
    evidence = services.evidence_add(
        case=case, actor=intake_officer, kind="photo", upload=SimpleUploadedFile("id-card.png", PNG)
    )
    stored = (tmp_path / "evidence" / evidence.storage_name).read_bytes()
    assert PNG not in stored and b"PNG" not in stored
    # Need-to-know: a verifier not on the case's team is refused, and that is logged too.
    with pytest.raises(PermissionDenied, match="Only the case's team"):
        services.evidence_open(evidence=evidence, actor=verifier)
    assert AccessLog.objects.filter(actor=verifier, action=AccessLog.Action.DENIED).exists()
    assign_verifier(case, verifier)
    assert services.evidence_open(evidence=evidence, actor=verifier) == PNG
    entry = AccessLog.objects.get(action=AccessLog.Action.REVEAL)
    assert (entry.actor, entry.target_label) == (verifier, case.code)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.pdf", b"just text pretending", "Only PDF, JPEG and PNG"),
        ("evil.png", b"<script>alert(1)</script>", "Only PDF, JPEG and PNG"),
    ],
)
def test_wrong_evidence_is_refused_and_nothing_stored(
    intake_officer, settings, tmp_path, name, content, message
):
    settings.MEDIA_ROOT = tmp_path
    case = intake(intake_officer)
    with pytest.raises(services.CaseError, match=message):
        services.evidence_add(
            case=case, actor=intake_officer, kind="photo", upload=SimpleUploadedFile(name, content)
        )
    assert not Evidence.objects.exists()
    assert not (tmp_path / "evidence").exists() or not any((tmp_path / "evidence").iterdir())


def test_oversized_evidence_is_refused(intake_officer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.HAVEN_EVIDENCE_MAX_BYTES = 1024
    case = intake(intake_officer)
    with pytest.raises(services.CaseError, match="too large"):
        services.evidence_add(
            case=case,
            actor=intake_officer,
            kind="photo",
            upload=SimpleUploadedFile("big.png", PNG + b"\x00" * 2048),
        )


def test_roles_without_reveal_cannot_open_evidence(intake_officer, make_staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = intake(intake_officer)
    evidence = services.evidence_add(
        case=case, actor=intake_officer, kind="photo", upload=SimpleUploadedFile("a.png", PNG)
    )
    with pytest.raises(PermissionDenied):
        services.evidence_open(evidence=evidence, actor=make_staff(Role.AUDITOR))
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


def test_erasing_a_case_key_erases_identity_family_and_evidence_but_not_statistics(
    intake_officer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    case = intake(intake_officer)
    other = intake(intake_officer, service_number="OTHER-1", real_name="Ma Nandar")
    services.family_member_add(case=case, actor=intake_officer, name="Daw Aye", relation="parent")
    evidence = services.evidence_add(
        case=case, actor=intake_officer, kind="photo", upload=SimpleUploadedFile("a.png", PNG)
    )
    destroy_data_key(case.data_key)
    erased = Case.objects.get(pk=case.pk)
    assert erased.real_name is ERASED or erased.real_name == ERASED
    assert erased.family_members.get().name == ERASED
    assert (erased.force, erased.region, erased.contact_month) == (
        "army",
        "sagaing",
        TODAY.replace(day=1),
    )
    assert erased.contact_date is ERASED
    with pytest.raises(Exception, match="erased"):
        services.evidence_open(evidence=evidence, actor=intake_officer)
    assert not services.duplicate_matches(service_number="BA-123456")
    assert Case.objects.get(pk=other.pk).real_name == "Ma Nandar"


def test_case_list_search_finds_by_code_or_number_through_the_blind_index(intake_officer):
    from cases.selectors import CaseFilters, case_list

    first = intake(intake_officer, service_number="BA-555001")
    second = intake(intake_officer, service_number="BA-555002", national_id="9/ABC(N)111")
    assert list(case_list(filters=CaseFilters(query=" ba 555001 "))) == [first]
    assert list(case_list(filters=CaseFilters(query="9/abc(n)111"))) == [second]
    assert list(case_list(filters=CaseFilters(query=second.code.lower()))) == [second]
    assert set(case_list(filters=CaseFilters(query=f"HV-{TODAY.year}-"))) == {first, second}
    assert not case_list(filters=CaseFilters(query="Zaw")).exists()


# --- the checks follow the person ----------------------------------------------------------


def test_changing_identity_after_the_checks_passed_resets_them_and_alerts_the_verifier(
    intake_officer, verifier, case_manager
):
    """The attack of issue 14: the case manager edits name, service number and date of birth
    after the verifier's checks passed, and the checks stay "passed"."""
    from notifications.models import Notification

    case = verified_ready(intake(intake_officer), verifier)
    add_to_team(case, case_manager)
    case = services.case_update(
        case=case,
        actor=case_manager,
        version=case.version,
        real_name="Ko Someone Else",
        service_number="BA-654321",
        date_of_birth=datetime.date(1990, 1, 1),
    )
    case.refresh_from_db()
    assert case.status == Status.VERIFYING
    assert (case.proposed_decision, case.proposal_reason) == ("", None)
    assert set(case.checks.values_list("result", flat=True)) == {CheckResult.PENDING}
    assert not case.checks.filter(checked_by__isnull=False).exists()
    [note] = case.notes.all()
    assert "real name" in note.text and "must be verified again" in note.text
    [alert] = Notification.objects.filter(kind="cases.checks_reset")
    assert alert.recipient == verifier and case.code in alert.text
    assert "Someone" not in alert.text and "654321" not in alert.text
    # Deciding now needs the checks again.
    with pytest.raises(services.CaseError, match="Every check must have passed"):
        services.case_decide(case=case, actor=case_manager, decision=Status.VERIFIED, reason="x")


def test_a_verified_case_whose_identity_changes_goes_back_to_verification(
    intake_officer, verifier, case_manager, other_case_manager
):
    case = verified_ready(intake(intake_officer), verifier)
    case = services.case_decide(
        case=case, actor=case_manager, decision=Status.VERIFIED, reason="Confirmed"
    )
    add_to_team(case, other_case_manager)
    services.case_update(case=case, actor=other_case_manager, version=case.version, unit="LIB 99")
    case.refresh_from_db()
    assert case.status == Status.VERIFYING
    assert (case.decided_by, case.decided_at, case.decision_reason) == (None, None, None)
    assert not case.checks.filter(result=CheckResult.PASSED).exists()


def test_details_the_checks_never_vouched_for_change_without_undoing_them(
    intake_officer, verifier, case_manager
):
    case = verified_ready(intake(intake_officer), verifier)
    add_to_team(case, case_manager)
    services.case_update(
        case=case,
        actor=case_manager,
        version=case.version,
        phone="+95 9 000 111",
        township="Kale",
        real_name=case.real_name,  # saved again, unchanged
        date_of_birth=case.date_of_birth,
    )
    case.refresh_from_db()
    assert case.proposed_decision == Status.VERIFIED
    assert set(case.checks.values_list("result", flat=True)) == {CheckResult.PASSED}
    assert not case.notes.exists()


def test_nobody_starts_verification_unassigned_or_assigns_themselves(
    intake_officer, verifier, case_manager, make_staff
):
    """The attack of issue 14: any verifier took any case by starting its verification."""
    from notifications.models import Notification

    case = intake(intake_officer)
    other_verifier = make_staff(Role.VERIFIER)
    with pytest.raises(services.CaseError, match="must assign you"):
        services.case_start_verification(case=case, actor=other_verifier)
    both = make_staff(Role.CASE_MANAGER, Role.VERIFIER)
    with pytest.raises(services.CaseError, match="Nobody puts themselves"):
        services.case_assign_verifier(case=case, actor=both, verifier=both)
    officer_and_verifier = make_staff(Role.INTAKE_OFFICER, Role.VERIFIER)
    own = intake(officer_and_verifier, service_number="C-9", real_name="Ma Hla")
    with pytest.raises(services.CaseError, match="took the case in"):
        services.case_assign_verifier(case=own, actor=case_manager, verifier=officer_and_verifier)
    services.case_assign_verifier(case=case, actor=case_manager, verifier=verifier)
    with pytest.raises(services.CaseError, match="must assign you"):
        services.case_start_verification(case=case, actor=other_verifier)
    case = services.case_start_verification(case=case, actor=verifier)
    assert case.status == Status.VERIFYING and case.verifier == verifier
    told = Notification.objects.get(kind="cases.verifier_assigned")
    assert told.recipient == verifier and case.code in told.text
