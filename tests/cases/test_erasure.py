"""Crypto-erasure of a case's identity: two approvers who are neither the requester nor each other
(in services, in the database and under a race), every protected value of the case, its family
and its evidence unreadable at once (history included), anonymous statistics unchanged, and the
retention rule's nightly proposals."""

from __future__ import annotations

import datetime
import json
import logging
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from pghistory.models import Events

from accounts.roles import Role
from audit.models import AccessLog
from cases import selectors, services
from cases.choices import CheckItem, JourneyEventKind, JourneyStage, Status
from cases.models import (
    Case,
    CaseChild,
    CaseNote,
    DuplicateDismissal,
    ErasureRequest,
    ErasureStatus,
    Evidence,
    FamilyMember,
    ItemBrought,
    JourneyEvent,
    VerificationCheck,
)
from cases.services import erasure
from cases.tasks import propose_erasures
from housing import selectors as housing_selectors
from housing import services as housing_services
from housing.models import House
from operations.tasks import keyring_backup
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.exports import payroll as payroll_sheet
from payments.models import Payment
from protection.fields import ProtectedModel
from protection.keys import CIPHERTEXT_PREFIX, ERASED, data_key_cache, decrypt_bytes, decrypt_text
from protection.models import DataKey
from tests import exporting
from tests.factories import (
    BedFactory,
    CaseFactory,
    StipendPlanFactory,
    VerifiedCaseFactory,
    add_to_team,
)
from tests.racing import race

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"fictional evidence pixels " * 8
NAME = "Thura Zaw Win"
SERVICE_NUMBER = "BA-918273"
NATIONAL_ID = "12/MAYANA(N)445566"
OLD_PHONE = "+95 9 4455 66778"
PHONE = "+95 9 1122 33445"
ALIAS = "Ko Lightning"
UNIT = "Light Infantry Battalion 707"
WHEREABOUTS = "Aunt's house behind Monywa market"
INTAKE_NOTE = "Crossed at the river crossing by night"
SAFETY = "Never call before dusk"
SPOUSE = "Ma Khin Lay Phyu"
SPOUSE_WHEREABOUTS = "Tea shop on Bogyoke Road"
CHECK_NOTE = "Reference Captain Min Thant confirmed"
CASE_NOTE = "Brother in the 33rd division"
FILE_NAME = "service-card-thura.png"
PROTECTED_VALUES = (
    NAME,
    SERVICE_NUMBER,
    NATIONAL_ID,
    OLD_PHONE,
    PHONE,
    ALIAS,
    UNIT,
    WHEREABOUTS,
    INTAKE_NOTE,
    SAFETY,
    SPOUSE,
    SPOUSE_WHEREABOUTS,
    CHECK_NOTE,
    CASE_NOTE,
    FILE_NAME,
)
CONFIRM = "HV-2025-09999"


@pytest.fixture
def manager(make_staff):
    return make_staff(Role.CASE_MANAGER)


@pytest.fixture
def second_manager(make_staff):
    return make_staff(Role.CASE_MANAGER)


@pytest.fixture
def admin_approver(make_staff):
    return make_staff(Role.ADMINISTRATOR, is_staff=True)


@pytest.fixture
def evidence_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def case(manager, evidence_root):
    """A verified case with every kind of protected value: its own fields (one of them changed
    once, so the history holds an old value too), a family member, a check note, a case note and
    an evidence file."""
    case = VerifiedCaseFactory(
        code=CONFIRM,
        real_name=NAME,
        alias=ALIAS,
        service_number=SERVICE_NUMBER,
        national_id=NATIONAL_ID,
        phone=OLD_PHONE,
        unit=UNIT,
        family_whereabouts=WHEREABOUTS,
        intake_notes=INTAKE_NOTE,
        safety_plan=SAFETY,
        contact_date=datetime.date(2025, 3, 14),
        defection_date=datetime.date(2025, 3, 20),
    )
    add_to_team(case, manager)
    case = services.case_update(case=case, actor=manager, version=case.version, phone=PHONE)
    services.family_member_add(
        case=case,
        actor=manager,
        name=SPOUSE,
        relation="spouse",
        age=29,
        whereabouts=SPOUSE_WHEREABOUTS,
    )
    VerificationCheck.objects.create(case=case, item=CheckItem.INTERVIEW, notes=CHECK_NOTE)
    services.case_note_add(case=case, actor=manager, text=CASE_NOTE)
    services.evidence_add(
        case=case,
        actor=manager,
        kind="photo",
        upload=SimpleUploadedFile(FILE_NAME, PNG, content_type="image/png"),
    )
    ItemBrought.objects.create(
        case=case, item_type="rifle", category="weapon", count=1, recorded_by=manager
    )
    return Case.objects.get(pk=case.pk)


def request_erasure(case, actor, **fields):
    return erasure.erasure_request(
        case=case,
        actor=actor,
        reason=fields.pop("reason", "person_request"),
        confirmation=fields.pop("confirmation", case.code),
        **fields,
    )


def approve(erasure_request, actor, confirmation=CONFIRM):
    return erasure.erasure_approve(erasure=erasure_request, actor=actor, confirmation=confirmation)


def erase(case, requester, first, second):
    pending = request_erasure(case, requester)
    approve(pending, first, case.code)
    return approve(pending, second, case.code)


def fresh(case) -> Case:
    """The case as another request would read it: nothing cached from before the erasure."""
    data_key_cache.clear()
    return Case.objects.get(pk=case.pk)


# --- every protected value is under the case's key ------------------------------------------------


def test_every_protected_model_is_the_case_or_shares_its_key_or_is_not_about_a_person():
    from django.apps import apps

    protected = {
        model
        for model in apps.get_models()
        if issubclass(model, ProtectedModel) and model._meta.app_label != "protected_app"
    }
    # Addresses of safe houses, and staff members' own alert targets: keys of their own.
    not_about_a_case = {House, apps.get_model("notifications", "AlertTarget")}
    # A journey's route and check-ins: a key of the journey's own, destroyed with the case's
    # (test_erasing_a_case_erases_its_journeys) or before, by minimisation.
    journeys = {model for model in protected if model._meta.app_label == "journeys"}
    # Why two cases are different people: about both, so a key of its own, destroyed when either
    # case is erased (test_erasing_either_case_of_a_pair_makes_their_dismissal_reason_unreadable).
    pairs = {DuplicateDismissal}
    assert {
        model for model in protected if model is not Case and not issubclass(model, CaseChild)
    } == not_about_a_case | journeys | pairs
    assert journeys


def test_the_case_and_everything_it_holds_use_one_key(case, evidence_root):
    key = case.data_key_id
    for model in (FamilyMember, VerificationCheck, CaseNote, Evidence):
        assert set(model.objects.filter(case=case).values_list("data_key_id", flat=True)) == {key}
    (stored,) = (evidence_root / "evidence").iterdir()
    assert stored.read_bytes().startswith(f"{CIPHERTEXT_PREFIX}{key}:".encode())


# --- two approvers ------------------------------------------------------------------------------


def test_requester_cannot_approve_own_request(case, manager):
    pending = request_erasure(case, manager)
    with pytest.raises(erasure.ErasureError, match="two other people"):
        approve(pending, manager)
    pending.refresh_from_db()
    assert pending.first_approved_by is None and pending.status == ErasureStatus.PROPOSED


def test_same_person_cannot_give_both_approvals(case, manager, second_manager):
    pending = request_erasure(case, manager)
    approve(pending, second_manager)
    with pytest.raises(erasure.ErasureError, match="already approved"):
        approve(pending, second_manager)
    pending.refresh_from_db()
    assert pending.status == ErasureStatus.PROPOSED
    assert not fresh(case).is_erased and fresh(case).real_name == NAME


def test_one_approval_erases_nothing_and_two_erase_the_identity(
    case, manager, second_manager, admin_approver
):
    pending = request_erasure(case, manager, note="Asked in person at the office")
    assert approve(pending, admin_approver).status == ErasureStatus.PROPOSED
    assert fresh(case).real_name == NAME
    done = approve(pending, second_manager)
    assert done.status == ErasureStatus.CARRIED_OUT and done.carried_out_at is not None
    assert fresh(case).is_erased


def test_a_keyring_without_the_destroyed_key_is_written_once_the_erasure_commits(
    case, manager, second_manager, admin_approver, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(keyring_backup, "delay", lambda **arguments: queued.append(arguments))
    pending = request_erasure(case, manager)
    with django_capture_on_commit_callbacks(execute=True):
        approve(pending, admin_approver)
    assert queued == []

    with django_capture_on_commit_callbacks(execute=True):
        approve(pending, second_manager)

    assert queued == [{}]


def test_a_wrong_case_code_changes_nothing(case, manager, second_manager):
    with pytest.raises(erasure.ErasureError, match="case code"):
        request_erasure(case, manager, confirmation="HV-2025-00001")
    assert not ErasureRequest.objects.exists()
    pending = request_erasure(case, manager)
    with pytest.raises(erasure.ErasureError, match="case code"):
        approve(pending, second_manager, confirmation="yes")
    pending.refresh_from_db()
    assert pending.first_approved_by is None


def test_one_open_request_per_case(case, manager, second_manager):
    request_erasure(case, manager)
    with pytest.raises(erasure.ErasureError, match="already waiting"):
        request_erasure(case, second_manager)
    assert ErasureRequest.objects.count() == 1


@pytest.mark.parametrize(
    "bad",
    [
        "first_approver_is_requester",
        "second_approver_is_requester",
        "same_approver_twice",
        "second_without_first",
        "carried_out_without_approvals",
        "rule_proposal_with_a_requester",
        "rejected_without_reason",
        "second_open_request",
    ],
)
def test_database_refuses_what_the_services_refuse(bad, case, manager, second_manager):
    now = timezone.now()
    pending = ErasureRequest.objects.create(
        case=case, reason="person_request", requested_by=manager
    )
    changes = {
        "first_approver_is_requester": {"first_approved_by": manager, "first_approved_at": now},
        "second_approver_is_requester": {
            "first_approved_by": second_manager,
            "first_approved_at": now,
            "second_approved_by": manager,
            "second_approved_at": now,
            "status": ErasureStatus.APPROVED,
        },
        "same_approver_twice": {
            "first_approved_by": second_manager,
            "first_approved_at": now,
            "second_approved_by": second_manager,
            "second_approved_at": now,
            "status": ErasureStatus.APPROVED,
        },
        "second_without_first": {
            "second_approved_by": second_manager,
            "second_approved_at": now,
            "status": ErasureStatus.APPROVED,
        },
        "carried_out_without_approvals": {
            "status": ErasureStatus.CARRIED_OUT,
            "carried_out_at": now,
        },
        "rule_proposal_with_a_requester": {"proposed_by_rule": True},
        "rejected_without_reason": {
            "status": ErasureStatus.REJECTED,
            "rejected_by": second_manager,
            "rejected_at": now,
        },
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        if bad == "second_open_request":
            ErasureRequest.objects.create(case=case, reason="other", requested_by=second_manager)
        else:
            ErasureRequest.objects.filter(pk=pending.pk).update(**changes[bad])


# --- what an erasure leaves --------------------------------------------------------------------


def test_after_erasure_every_protected_value_of_case_family_and_evidence_reads_erased(
    case, manager, second_manager, admin_approver, evidence_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        erase(case, manager, second_manager, admin_approver)
    case = fresh(case)
    for field in (
        "real_name",
        "alias",
        "service_number",
        "national_id",
        "phone",
        "date_of_birth",
        "unit",
        "family_whereabouts",
        "intake_notes",
        "safety_plan",
    ):
        assert getattr(case, field) is ERASED, field
    assert (case.service_number_index, case.national_id_index, case.name_and_birth_index) == (
        "",
        "",
        "",
    )
    (member,) = FamilyMember.objects.filter(case=case)
    assert member.name is ERASED and member.whereabouts is ERASED
    assert VerificationCheck.objects.get(case=case, item=CheckItem.INTERVIEW).notes is ERASED
    assert CaseNote.objects.get(case=case).text is ERASED
    evidence = Evidence.objects.get(case=case)
    assert evidence.original_name is ERASED
    stored = (evidence_root / "evidence" / evidence.storage_name).read_bytes()
    assert PNG not in stored and len(stored) < len(PNG)  # the ciphertext is gone from the disk
    with pytest.raises(Exception, match="erased"):
        decrypt_bytes(stored, data_key_id=evidence.data_key_id)
    # The non-identity facts stay.
    # The exact date and rank are erased with the identity; the month and the group stay.
    assert (case.code, case.status, case.force, case.rank_group, case.contact_month) == (
        CONFIRM,
        Status.VERIFIED,
        "army",
        "nco",
        datetime.date(2025, 3, 1),
    )
    assert case.contact_date is ERASED and case.rank is ERASED
    assert ItemBrought.objects.get(case=case).count == 1
    assert (member.relation, member.age) == ("spouse", 29)
    # Nobody can find the case by its old numbers any more.
    assert services.duplicate_matches(service_number=SERVICE_NUMBER, national_id=NATIONAL_ID) == []


def test_the_history_keeps_nothing_readable(case, manager, second_manager, admin_approver):
    erase(case, manager, second_manager, admin_approver)
    data_key_cache.clear()
    events = list(Events.objects.references(case))
    assert len(events) > 5
    ciphertexts = [
        value
        for event in events
        for value in (event.pgh_data or {}).values()
        if isinstance(value, str) and value.startswith(CIPHERTEXT_PREFIX)
    ]
    assert len(ciphertexts) > 10  # the old phone number among them
    assert {decrypt_text(value) for value in ciphertexts} == {ERASED}
    dumped = json.dumps([event.pgh_data for event in events] + [e.pgh_diff for e in events])
    for value in PROTECTED_VALUES:
        assert value not in dumped
    assert "service_number_index" not in dumped  # blind indexes were never copied


def test_erasure_is_in_the_history_and_the_access_log_without_any_identity(
    case, manager, second_manager, admin_approver
):
    done = erase(case, manager, second_manager, admin_approver)
    (entry,) = AccessLog.objects.filter(action=erasure.ERASE_ACTION)
    assert entry.actor == admin_approver
    assert (entry.target_type, entry.target_id, entry.target_label) == (
        "cases.case",
        str(case.pk),
        CONFIRM,
    )
    assert entry.detail == {"erasure_request": done.pk, "proposed_by_rule": False}
    contexts = [
        (event.pgh_context or {}).get("action")
        for event in Events.objects.references(case).order_by("pgh_id")
    ]
    assert "case.erase" in contexts and "case.erasure_request" in contexts
    texts = json.dumps(
        [list(ErasureRequest.objects.values()), list(AccessLog.objects.values("detail"))],
        default=str,
    )
    for value in PROTECTED_VALUES:
        assert value not in texts


def test_an_erased_case_can_no_longer_be_changed(case, manager, second_manager, admin_approver):
    erase(case, manager, second_manager, admin_approver)
    case = fresh(case)
    with pytest.raises(services.CaseError, match="erased"):
        services.family_member_add(case=case, actor=manager, name="Someone New", relation="child")
    with pytest.raises(services.CaseError, match="erased"):
        services.case_note_add(case=case, actor=manager, text="A new note")
    with pytest.raises(services.CaseError, match="erased"):
        services.case_update(case=case, actor=manager, version=case.version, phone="+95 1")
    with pytest.raises(erasure.ErasureError, match="already been erased"):
        request_erasure(case, manager)


def test_pages_and_exports_show_no_identity_after_erasure(
    login, case, manager, second_manager, admin_approver, make_staff, monkeypatch
):
    plan = StipendPlanFactory(case=case, start_date=datetime.date(2026, 1, 1))
    officer = make_staff(Role.FINANCE_OFFICER)
    officer.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="reveal_identity")
    )
    (batch,) = payment_services.disbursement_run(
        period=timezone.localdate().replace(day=1), actor=officer
    )
    payment_services.batch_approve(batch=batch, actor=make_staff(Role.FINANCE_APPROVER))
    monkeypatch.setattr(payroll_sheet, "COMPRESS_PDF", False)
    erase(case, manager, second_manager, admin_approver)
    data_key_cache.clear()

    client = login(manager)
    pages = [
        client.get(reverse(f"cases:{tab}", args=[case.pk])).content.decode()
        for tab in ("detail", "identity", "family", "checks", "evidence", "notes", "history")
    ]
    pages.append(client.post(reverse("cases:reveal", args=[case.pk, "real_name"])).content.decode())
    export = exporting.export(client, reverse("cases:reports_export"), {"kind": "cases"})
    export_text = exporting.content(export).decode("utf-8-sig")
    assert CONFIRM in export_text
    pages.append(export_text)
    officer_client = login(officer)
    payroll = exporting.content(
        exporting.export(officer_client, reverse("payments:batch_pdf", args=[batch.pk]))
    )
    assert plan.case.code.encode() in payroll
    for value in PROTECTED_VALUES:
        assert all(value not in page for page in pages), value
        assert value.encode() not in payroll
    assert "[erased]" in pages[1]
    response = client.get(
        reverse("cases:evidence_download", args=[case.pk, Evidence.objects.get(case=case).pk])
    )
    assert response.status_code == 302  # back to the tab with "erased or damaged"


# --- statistics stay the same ------------------------------------------------------------------


def test_anonymous_statistics_are_the_same_before_and_after_erasure(
    case, manager, second_manager, admin_approver, make_staff
):
    today = timezone.localdate()
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    member = FamilyMember.objects.get(case=case)
    other = VerifiedCaseFactory(force="police", rank="captain")
    for occupant in (
        housing_services.Occupant(case),
        housing_services.Occupant(case, member),
        housing_services.Occupant(other),
    ):
        housing_services.allocation_create(
            actor=coordinator,
            occupant=occupant,
            bed=BedFactory(),
            start=today - datetime.timedelta(days=40),
        )
    officer = make_staff(Role.FINANCE_OFFICER)
    StipendPlanFactory(case=case, start_date=datetime.date(2026, 1, 1))
    StipendPlanFactory(case=other, start_date=datetime.date(2026, 1, 1), amount="1500.00")
    (batch,) = payment_services.disbursement_run(period=today.replace(day=1), actor=officer)
    payment_services.batch_approve(batch=batch, actor=make_staff(Role.FINANCE_APPROVER))
    payment_services.payments_record(
        payments=[Payment.objects.get(case=case)],
        actor=officer,
        outcome="paid",
        method="cash",
        acknowledged=True,
    )
    start, end = datetime.date(2024, 1, 1), today

    def figures():
        return {
            "months": selectors.monthly_counts(date_from=start, date_to=end),
            "breakdowns": selectors.breakdowns(date_from=start, date_to=end),
            "rows": list(selectors.report_case_rows(date_from=start, date_to=end)),
            "bed_nights": housing_selectors.bed_nights_per_month(
                date_from=today - datetime.timedelta(days=60), date_to=today
            ),
            "stays": housing_selectors.stay_figures(),
            "ledger": payment_selectors.ledger_totals(filters=payment_selectors.LedgerFilters()),
            "paid": payment_selectors.paid_per_month(months=3),
        }

    before = figures()
    assert sum(row.nights for row in before["bed_nights"]) == 3 * 41  # up to tonight
    assert sum(row.disbursed for row in before["ledger"]) == Decimal("1000.00")
    erase(case, manager, second_manager, admin_approver)
    data_key_cache.clear()
    assert figures() == before


# --- racing approvals --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_approvals_never_approve_twice_nor_erase_twice(make_staff, evidence_root):
    requester, first, second, third = (make_staff(Role.CASE_MANAGER) for _ in range(4))
    case = CaseFactory(code=CONFIRM, real_name=NAME)
    pending = request_erasure(case, requester)

    # A double submission by one approver counts once.
    results, errors = race([lambda: approve(pending, first), lambda: approve(pending, first)])
    assert len(results) == 1 and len(errors) == 1
    assert "already approved" in str(errors[0])
    pending.refresh_from_db()
    assert (pending.first_approved_by, pending.status) == (first, ErasureStatus.PROPOSED)

    # Two people giving the second approval at once: one erases, the other is told it is done.
    results, errors = race([lambda: approve(pending, second), lambda: approve(pending, third)])
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], erasure.ErasureError)
    assert "no longer be approved" in str(errors[0])
    pending.refresh_from_db()
    assert pending.status == ErasureStatus.CARRIED_OUT
    assert pending.second_approved_by == results[0].second_approved_by
    assert AccessLog.objects.filter(action=erasure.ERASE_ACTION).count() == 1
    assert DataKey.objects.get(pk=case.data_key_id).destroyed_at is not None
    assert fresh(case).real_name is ERASED


# --- the retention rule ------------------------------------------------------------------------


def closed_case(*, years_ago: float, how: str) -> Case:
    """A case closed `years_ago`: withdrawn, rejected, or resettled (a stage event)."""
    when = timezone.now() - datetime.timedelta(days=int(365 * years_ago))
    if how == "resettled":
        case = VerifiedCaseFactory(journey_stage=JourneyStage.RESETTLED)
        event = JourneyEvent.objects.create(
            case=case, kind=JourneyEventKind.STAGE, stage=JourneyStage.RESETTLED, by=case.decided_by
        )
        JourneyEvent.objects.filter(pk=event.pk).update(at=when)
    elif how == "rejected":
        case = VerifiedCaseFactory(status=Status.REJECTED, decided_at=when)
    else:
        case = CaseFactory(status=Status.WITHDRAWN, status_reason="No longer reachable")
    Case.objects.filter(pk=case.pk).update(updated_at=when)
    return case


def proposed_cases() -> set[int]:
    return set(
        ErasureRequest.objects.filter(
            proposed_by_rule=True, status=ErasureStatus.PROPOSED
        ).values_list("case", flat=True)
    )


def test_rule_proposes_cases_closed_longer_than_the_period_once(settings):
    settings.HAVEN_ERASURE_AFTER_CLOSURE_DAYS = 730
    due = {closed_case(years_ago=3, how=how).pk for how in ("withdrawn", "rejected", "resettled")}
    for how in ("withdrawn", "rejected", "resettled"):
        closed_case(years_ago=1, how=how)
    old_but_open = VerifiedCaseFactory(contact_date=datetime.date(2020, 1, 1))
    Case.objects.filter(pk=old_but_open.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=2000)
    )

    assert propose_erasures() == {"proposed": 3, "cancelled": 0}
    assert proposed_cases() == due
    assert propose_erasures() == {"proposed": 0, "cancelled": 0}  # idempotent
    proposal = ErasureRequest.objects.filter(proposed_by_rule=True).first()
    assert (proposal.requested_by, proposal.reason) == (None, "retention")
    assert not fresh(proposal.case).is_erased  # a proposal erases nothing by itself


def test_the_rule_is_off_at_zero(settings):
    settings.HAVEN_ERASURE_AFTER_CLOSURE_DAYS = 0
    closed_case(years_ago=10, how="withdrawn")
    assert propose_erasures() == {"proposed": 0, "cancelled": 0}
    assert not ErasureRequest.objects.exists()


def test_the_nightly_run_is_scheduled():
    task = PeriodicTask.objects.get(task="cases.propose_erasures")
    assert task.enabled and task.crontab.hour == "3"


def test_a_rejected_proposal_is_not_proposed_again_for_a_year(manager, settings):
    settings.HAVEN_ERASURE_AFTER_CLOSURE_DAYS = 730
    case = closed_case(years_ago=3, how="withdrawn")
    propose_erasures()
    (proposal,) = ErasureRequest.objects.all()
    with pytest.raises(erasure.ErasureError, match="reason"):
        erasure.erasure_reject(erasure=proposal, actor=manager, reason="  ")
    erasure.erasure_reject(erasure=proposal, actor=manager, reason="Legal hold: court case 2026")
    assert propose_erasures()["proposed"] == 0
    later = timezone.now() + datetime.timedelta(days=200)
    assert erasure.erasure_propose_by_rule(now=later)["proposed"] == 0
    a_year_on = timezone.now() + datetime.timedelta(days=erasure.REJECTION_QUIET_DAYS + 1)
    assert erasure.erasure_propose_by_rule(now=a_year_on)["proposed"] == 1
    assert proposed_cases() == {case.pk}


def test_a_proposal_needs_two_approvals_and_lapses_if_the_case_is_reopened(
    manager, second_manager, settings
):
    settings.HAVEN_ERASURE_AFTER_CLOSURE_DAYS = 730
    erased = closed_case(years_ago=3, how="withdrawn")
    reopened = closed_case(years_ago=3, how="rejected")
    propose_erasures()
    first = ErasureRequest.objects.get(case=erased)
    approve(first, manager, erased.code)
    assert not fresh(erased).is_erased
    assert approve(first, second_manager, erased.code).status == ErasureStatus.CARRIED_OUT
    assert fresh(erased).is_erased

    Case.objects.filter(pk=reopened.pk).update(status=Status.INTAKE)
    lapsed = ErasureRequest.objects.get(case=reopened)
    with pytest.raises(erasure.ErasureError, match="re-opened"):
        approve(lapsed, manager, reopened.code)
    assert propose_erasures() == {"proposed": 0, "cancelled": 1}
    lapsed.refresh_from_db()
    assert lapsed.status == ErasureStatus.CANCELLED and not fresh(reopened).is_erased


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.INTAKE_OFFICER, Role.VERIFIER, Role.AUDITOR])
def test_only_case_managers_and_administrators_ask_and_refusals_are_logged(
    role, make_staff, case, manager
):
    outsider = make_staff(role)
    with pytest.raises(PermissionDenied):
        request_erasure(case, outsider)
    pending = request_erasure(case, manager)
    with pytest.raises(PermissionDenied):
        approve(pending, outsider)
    denied = AccessLog.objects.filter(action=AccessLog.Action.DENIED, actor=outsider)
    assert sorted(entry.detail["action"] for entry in denied) == [
        "erasure.approve",
        "erasure.request",
    ]
    pending.refresh_from_db()
    assert pending.first_approved_by is None


def test_refused_pages_are_logged(login, make_staff, case):
    officer = make_staff(Role.FINANCE_OFFICER)
    client = login(officer)
    assert client.get(reverse("cases:erasure_list")).status_code == 403
    assert client.post(reverse("cases:erasure_create", args=[case.pk])).status_code == 403
    assert AccessLog.objects.filter(action=AccessLog.Action.DENIED, actor=officer).count() == 2
    assert not ErasureRequest.objects.exists()


def test_only_the_requester_cancels(case, manager, second_manager):
    pending = request_erasure(case, manager)
    with pytest.raises(erasure.ErasureError, match="Only the person"):
        erasure.erasure_cancel(erasure=pending, actor=second_manager)
    assert erasure.erasure_cancel(erasure=pending, actor=manager).status == "cancelled"
    with pytest.raises(erasure.ErasureError, match="cancelled"):
        approve(pending, second_manager)


# --- the pages ------------------------------------------------------------------------------------


def test_erasure_through_the_pages_without_identity_in_logs(
    login, case, manager, second_manager, admin_approver, caplog
):
    caplog.set_level(logging.DEBUG)
    requester = login(manager)
    detail = requester.get(reverse("cases:detail", args=[case.pk])).content.decode()
    create_url = reverse("cases:erasure_create", args=[case.pk])
    assert create_url in detail  # the "Erase identity" action on the case page

    response = requester.post(create_url, {"reason": "person_request", "confirmation": "HV-1"})
    assert response.status_code == 200 and not ErasureRequest.objects.exists()
    assert "Type the case code exactly" in response.content.decode()
    response = requester.post(
        create_url,
        {"reason": "person_request", "note": "Asked by phone", "confirmation": case.code.lower()},
    )
    pending = ErasureRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:erasure_detail", args=[pending.pk])

    approve_url = reverse("cases:erasure_approve", args=[pending.pk])
    own = requester.post(approve_url, {"confirmation": case.code})
    assert own.status_code == 200 and "two other people must approve" in own.content.decode()
    pending.refresh_from_db()
    assert pending.first_approved_by is None

    administrator = login(admin_approver)
    listing = administrator.get(reverse("cases:erasure_list")).content.decode()
    assert case.code in listing and "Waiting for you" in listing
    wrong = administrator.post(approve_url, {"confirmation": "HV-2025-00001"})
    assert wrong.status_code == 200 and "Type the case code" in wrong.content.decode()
    administrator.post(approve_url, {"confirmation": case.code})
    page = login(second_manager).post(approve_url, {"confirmation": case.code}, follow=True)
    assert f"The identity of case {case.code} is erased." in page.content.decode()
    assert fresh(case).is_erased

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    for value in PROTECTED_VALUES:
        assert value not in logged


def test_administrator_finds_a_case_by_its_code(login, admin_approver, case):
    client = login(admin_approver)
    response = client.get(reverse("cases:erasure_list"), {"code": f" {case.code.lower()} "})
    assert response["Location"] == reverse("cases:erasure_create", args=[case.pk])
    response = client.get(reverse("cases:erasure_list"), {"code": "HV-1999-00001"}, follow=True)
    assert "No case has that code." in response.content.decode()
    response = client.get(reverse("cases:erasure_list"), {"code": "Thura"})
    assert "looks like HV-2026-00042" in response.content.decode()


def test_rejecting_through_the_page_needs_a_reason(login, case, manager, second_manager):
    pending = request_erasure(case, manager)
    client = login(second_manager)
    url = reverse("cases:erasure_reject", args=[pending.pk])
    assert client.post(url, {"reason": ""}).status_code == 200
    pending.refresh_from_db()
    assert pending.status == ErasureStatus.PROPOSED
    client.post(url, {"reason": "Legal hold"})
    pending.refresh_from_db()
    assert pending.status == ErasureStatus.REJECTED and pending.rejected_by == second_manager
    with connection.cursor() as cursor:  # the case is untouched
        cursor.execute(
            "SELECT destroyed_at FROM accounts_datakey WHERE id = %s", [case.data_key_id]
        )
        assert cursor.fetchone() == (None,)


def test_erasing_either_case_of_a_pair_makes_their_dismissal_reason_unreadable(
    case, manager, second_manager, admin_approver
):
    later = VerifiedCaseFactory()  # the second of the pair (the anonymisation test erases a first)
    services.duplicate_dismiss(
        first=later, second=case, actor=manager, reason="Different units and birth years"
    )
    dismissal = DuplicateDismissal.objects.get(first_case=case, second_case=later)
    # Under a key of its own: neither case's, so that erasing either one can destroy it.
    assert dismissal.data_key_id not in (case.data_key_id, later.data_key_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM cases_duplicatedismissal WHERE id = %s", [dismissal.pk])
        assert cursor.fetchone()[0].startswith(CIPHERTEXT_PREFIX)
    assert DuplicateDismissal.objects.get(pk=dismissal.pk).reason.startswith("Different")
    erase(later, manager, second_manager, admin_approver)
    data_key_cache.clear()
    assert DuplicateDismissal.objects.get(pk=dismissal.pk).reason is ERASED
    assert DataKey.objects.get(pk=case.data_key_id).wrapped_key is not None
