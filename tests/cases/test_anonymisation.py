"""Erasure that anonymises (issue 16): every word written about a person is encrypted under the
case's data key, so that after an erasure none of it, nor the case's exact township and dates, is
left anywhere: not in a pg_dump of the database (change history included), not in the private
files, not in the Celery result backend, not in Redis. The anonymous statistics stay the same.

The guard below fails as soon as a model about a case gets a clear text field that is not on
its allow-list with a reason."""

from __future__ import annotations

import datetime
import os
import subprocess
from decimal import Decimal

import pghistory.models
import pytest
import redis
from django.apps import apps
from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField, RangeField
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.urls import reverse
from django.utils import timezone
from django_celery_results.models import TaskResult

from accounts.roles import Role
from cases import selectors, services
from cases.choices import CheckItem, JourneyStage
from cases.models import (
    BreakGlass,
    Case,
    CaseNote,
    DuplicateDismissal,
    Evidence,
    FamilyMember,
    ItemBrought,
    JourneyEvent,
    Referral,
    VerificationCheck,
)
from cases.services import erasure
from cases.tasks import propose_erasures
from config.celery import app as celery_app
from housing import selectors as housing_selectors
from housing import services as housing_services
from housing.models import Allocation
from journeys import services as journey_services
from journeys.models import CheckIn, ContingencyStep, Debrief, Journey, Leg
from journeys.services import ContingencyPlan, LegPlan
from operations.backups.common import (
    _libpq_environment,
    _server_major_version,
    connect,
    postgres_tool,
)
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.models import OneOffPayment, Payment, RewardPolicy, StipendPlan
from protection.blind_indexes import BlindIndexField
from protection.fields import EncryptedDateField, EncryptedField
from protection.keys import ERASED, data_key_cache
from protection.models import DataKey
from tests.factories import (
    BedFactory,
    FundingSourceFactory,
    PartnerFactory,
    StipendPlanFactory,
    VerifiedCaseFactory,
    add_to_team,
)

# Clear text fields on models about a case that may stay clear, each with why. Nothing else may:
# a new CharField or TextField on such a model must be encrypted or added here with a reason.
ALLOWED_CLEAR_TEXT = {
    "cases.Case.code": "the pseudonymous case code, made by Haven",
    "cases.Evidence.content_type": "the file type, checked against a short list on upload",
    "cases.Evidence.storage_name": "a random file name made by Haven",
    "cases.ErasureRequest.note": (
        "must explain the erasure after it; the form asks not to name or describe the person "
        "(docs/erasure.md)"
    ),
    "cases.ErasureRequest.rejection_reason": (
        "must explain, after an erasure, why an earlier request was refused (a legal hold); "
        "the form asks not to name the person"
    ),
    "journeys.Leg.from_place": "a coarse place kept, like the region, after minimisation",
    "journeys.Leg.to_place": "a coarse place kept, like the region, after minimisation",
    "journeys.CheckIn.coarse_location": "a coarse place kept, like the region",
    "journeys.Journey.all_clear_hash": "a salted hash of a code word, never the word",
    "journeys.Journey.duress_hash": "a salted hash of a code word, never the word",
    "payments.LedgerEntry.memo": "written by Haven ('line paid'), never typed",
}


def _each(reason: str, *labels: str) -> dict[str, str]:
    return dict.fromkeys(labels, reason)


# Clear dates on models about a case that may stay clear, each with why. A date Haven stamps
# itself when a record is made or changed (auto_now, auto_now_add: created_at, recorded_at …)
# holds no fact about the person and needs no entry. Any other clear DateField or DateTimeField,
# or range of them (a stay's period), must be encrypted or added here with a reason: an exact
# date of the person's life (a birth, a defection, a sighting) narrows them down like a name.
ALLOWED_CLEAR_DATES = {
    **_each(
        "the month kept for statistics; the exact date is encrypted under the case's key",
        "cases.Case.contact_month",
        "cases.Case.defection_month",
    ),
    **_each(
        "when staff took a step of Haven's own work (a decision, an emergency flag, a check)",
        "cases.Case.decided_at",
        "cases.Case.emergency_since",
        "cases.VerificationCheck.checked_at",
    ),
    **_each(
        "when staff broke the glass, until when, and when it was reviewed: the audit of access",
        "cases.BreakGlass.opened_at",
        "cases.BreakGlass.expires_at",
        "cases.BreakGlass.reviewed_at",
    ),
    **_each(
        "the steps of an erasure request, which must explain the erasure after it",
        "cases.ErasureRequest.first_approved_at",
        "cases.ErasureRequest.second_approved_at",
        "cases.ErasureRequest.rejected_at",
        "cases.ErasureRequest.cancelled_at",
        "cases.ErasureRequest.carried_out_at",
    ),
    **_each(
        "when a stay began, ended or was undone: the bed-night statistics and the occupancy "
        "constraint, kept after an erasure; the house is a code name, its address encrypted",
        "housing.Allocation.stay",
        "housing.Allocation.checked_out_at",
        "housing.Allocation.cancelled_at",
    ),
    **_each(
        "the months a stipend covers and the month paid: the payment totals",
        "payments.StipendPlan.start_date",
        "payments.StipendPlan.end_date",
        "payments.Payment.period",
    ),
    "payments.Payment.recorded_at": "when finance recorded the payout: the ledger's own date",
    "payments.StipendPlan.payout_set_at": (
        "when finance last set the plan's wallet or account: which batch may pay it (the wallet "
        "itself is encrypted under the case's key)"
    ),
    **_each(
        "the journey's clock as Haven keeps it (windows, escalations, its end and minimisation);"
        " the route and the people are encrypted under the journey's key",
        "journeys.CheckIn.at",
        "journeys.CheckInWindow.due_at",
        "journeys.CheckInWindow.grace_ends_at",
        "journeys.CheckInWindow.checked_in_at",
        "journeys.CheckInWindow.stopped_at",
        "journeys.Escalation.at",
        "journeys.Escalation.closed_at",
        "journeys.Journey.ended_at",
        "journeys.Journey.minimised_at",
    ),
}

# Encrypted fields whose values staff pick from a list or a calendar rather than type: the test
# writes no marker into them (they are still encrypted, under the journey's key).
PICKED_NOT_TYPED = {
    "journeys.Journey.planned_departure",
    "journeys.Journey.planned_arrival",
    "journeys.Journey.primary_channel",
    "journeys.Journey.fallback_channel",
    "journeys.ContingencyStep.kind",
    "journeys.ContingencyStep.house_code",
}


def models_about_a_case() -> set[type[models.Model]]:
    """Case, and every model that points at it, directly or through another such model."""
    case = apps.get_model("cases", "Case")
    about, changed = {case}, True
    candidates = [
        model
        for model in apps.get_models()
        if not issubclass(model, pghistory.models.Event)
        and not model._meta.proxy
        and model._meta.app_label != "protected_app"
    ]
    while changed:
        changed = False
        for model in candidates:
            if model not in about and any(
                field.is_relation and field.related_model in about
                for field in model._meta.concrete_fields
            ):
                about.add(model)
                changed = True
    return about


def field_label(model, field) -> str:
    return f"{model._meta.label}.{field.name}"


def test_no_clear_text_field_on_a_model_about_a_case_unless_allowed_with_a_reason():
    clear = {
        field_label(model, field)
        for model in models_about_a_case()
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.JSONField)
        and not isinstance(field, EncryptedField | BlindIndexField)
        and not field.choices
    }
    unexplained = clear - set(ALLOWED_CLEAR_TEXT)
    assert not unexplained, f"Encrypt these, or allow them with a reason: {sorted(unexplained)}"
    # An allow-list entry for a field that has gone (or been encrypted) is stale.
    assert set(ALLOWED_CLEAR_TEXT) <= clear, sorted(set(ALLOWED_CLEAR_TEXT) - clear)
    assert all(len(reason) > 20 for reason in ALLOWED_CLEAR_TEXT.values())


def stamped_by_haven(field: models.Field) -> bool:
    """A date Haven writes itself when the record is made or changed, never typed."""
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def holds_dates(field: models.Field) -> bool:
    """A date or a time, or a range of them."""
    if isinstance(field, RangeField):
        return isinstance(field.base_field, models.DateField)
    return isinstance(field, models.DateField)


def test_no_clear_date_on_a_model_about_a_case_unless_stamped_by_haven_or_allowed():
    clear = {
        field_label(model, field)
        for model in models_about_a_case()
        for field in model._meta.concrete_fields
        if holds_dates(field) and not stamped_by_haven(field)
    }
    unexplained = clear - set(ALLOWED_CLEAR_DATES)
    assert not unexplained, f"Encrypt these, or allow them with a reason: {sorted(unexplained)}"
    assert set(ALLOWED_CLEAR_DATES) <= clear, sorted(set(ALLOWED_CLEAR_DATES) - clear)
    assert all(len(reason) > 20 for reason in ALLOWED_CLEAR_DATES.values())


@pytest.mark.parametrize(
    "field_class", [models.DateField, models.DateTimeField, DateTimeRangeField]
)
def test_the_guard_notices_a_new_clear_date_about_the_person(monkeypatch, field_class):
    field = field_class(null=True, blank=True)
    field.set_attributes_from_name("last_seen_on")
    field.model = FamilyMember
    monkeypatch.setattr(
        FamilyMember._meta, "concrete_fields", (*FamilyMember._meta.concrete_fields, field)
    )
    with pytest.raises(AssertionError, match=r"cases\.FamilyMember\.last_seen_on"):
        test_no_clear_date_on_a_model_about_a_case_unless_stamped_by_haven_or_allowed()


def test_the_guard_lets_a_new_timestamp_haven_stamps_itself_through(monkeypatch):
    field = models.DateTimeField(auto_now=True)
    field.set_attributes_from_name("touched_at")
    field.model = FamilyMember
    monkeypatch.setattr(
        FamilyMember._meta, "concrete_fields", (*FamilyMember._meta.concrete_fields, field)
    )
    test_no_clear_date_on_a_model_about_a_case_unless_stamped_by_haven_or_allowed()


def test_the_guard_notices_a_new_clear_text_field(monkeypatch):
    field = models.CharField(max_length=50, blank=True)
    field.set_attributes_from_name("remark")
    field.model = ItemBrought
    monkeypatch.setattr(
        ItemBrought._meta, "concrete_fields", (*ItemBrought._meta.concrete_fields, field)
    )
    with pytest.raises(AssertionError, match=r"cases\.ItemBrought\.remark"):
        test_no_clear_text_field_on_a_model_about_a_case_unless_allowed_with_a_reason()


# --- the marker test ------------------------------------------------------------------------

CONTACT, DEFECTION, BIRTH = (
    datetime.date(2019, 2, 13),
    datetime.date(2019, 2, 11),
    datetime.date(1987, 5, 23),
)
TOWNSHIP = "Zqmarker Township"
# The exact rank narrows the person down; only its group (junior officer) may stay.
RANK = "second_lieutenant"
PNG = b"\x89PNG\r\n\x1a\n" + b"ZQMARK-evidence-bytes " * 8
ALL_CLEAR, DURESS = "ZQMARK-all-clear", "ZQMARK-duress"


class Markers(dict):
    """A unique marker per field: `markers.of("cases.Case", "real_name")`."""

    def of(self, label: str, field: str) -> str:
        return self.setdefault(f"{label}.{field}", f"ZQMARK-{label}-{field}-{len(self)}")


def build_case_with_everything(markers: Markers, staff: dict):
    """A verified case with family, items, referrals, a journey, stays (one moved, one undone),
    a paid stipend line, a paid one-off reward and a rejected one, a break-the-glass, notes and
    evidence, with a marker in every text field."""

    def mark(model, field):
        return markers.of(model._meta.label, field)

    identity = {
        field: mark(Case, field)
        for field in (
            "real_name",
            "alias",
            "service_number",
            "national_id",
            "phone",
            "unit",
            "family_whereabouts",
            "intake_notes",
            "safety_plan",
        )
    }
    case = VerifiedCaseFactory(
        code="HV-2019-00777",
        township=TOWNSHIP,
        rank=RANK,
        contact_date=CONTACT,
        defection_date=DEFECTION,
        date_of_birth=BIRTH,
        decision_reason=mark(Case, "decision_reason"),
        proposal_reason=mark(Case, "proposal_reason"),
        status_reason=mark(Case, "status_reason"),
        case_manager=staff["manager"],
        **identity,
    )
    add_to_team(case, staff["manager"])
    manager = staff["manager"]
    FamilyMember.objects.create(
        case=case,
        name=mark(FamilyMember, "name"),
        whereabouts=mark(FamilyMember, "whereabouts"),
        relation="spouse",
        age=30,
        needs_housing=True,
    )
    VerificationCheck.objects.create(
        case=case, item=CheckItem.INTERVIEW, notes=mark(VerificationCheck, "notes")
    )
    services.case_note_add(case=case, actor=manager, text=mark(CaseNote, "text"))
    services.evidence_add(
        case=case,
        actor=manager,
        kind="photo",
        upload=SimpleUploadedFile(mark(Evidence, "original_name"), PNG, content_type="image/png"),
    )
    services.item_add(
        case=case,
        actor=manager,
        item_type="rifle",
        count=2,
        handed_over_to=mark(ItemBrought, "handed_over_to"),
        notes=mark(ItemBrought, "notes"),
    )
    make_referral(case, manager, mark(Referral, "purpose"))
    services.case_set_stage(
        case=case, actor=manager, stage=JourneyStage.IN_TRANSIT, reason=mark(JourneyEvent, "reason")
    )
    BreakGlass.objects.create(
        case=case,
        user=staff["outsider"],
        reason="danger",
        why=mark(BreakGlass, "why"),
        review_note=mark(BreakGlass, "review_note"),
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    plan_journey(case, staff, mark)
    stay_in_beds(case, staff, mark)
    pay(case, staff, mark)
    return Case.objects.get(pk=case.pk)


def make_referral(case, manager, purpose):
    services.referral_create(
        case=case, actor=manager, partner=PartnerFactory(name="Fictional Clinic"), purpose=purpose
    )


def plan_journey(case, staff, mark):
    departure = timezone.now() + datetime.timedelta(hours=1)
    add_to_team(case, staff["lead"], staff["backup"])
    journey = journey_services.journey_plan(
        case=case,
        actor=staff["coordinator"],
        lead_handler=staff["lead"],
        backup_handler=staff["backup"],
        departure=departure,
        arrival=departure + datetime.timedelta(hours=24),
        grace_minutes=30,
        every_hours=4,
        primary_channel="signal",
        fallback_channel="partner",
        channel_details=mark(Journey, "channel_details"),
        travellers=mark(Journey, "travellers"),
        all_clear_word=ALL_CLEAR,
        duress_word=DURESS,
        legs=[LegPlan(from_place="Monywa", to_place="Kalay", details=mark(Leg, "details"))],
        contingency=[ContingencyPlan(kind="warn_person", details=mark(ContingencyStep, "details"))],
    )
    journey_services.check_in_record(
        journey=journey,
        actor=staff["lead"],
        channel="signal",
        word=ALL_CLEAR,
        coarse_location="Kalay",
        note=mark(CheckIn, "note"),
    )
    journey_services.journey_mark_arrived(journey=journey, actor=staff["lead"])
    journey_services.debrief_record(
        journey=journey,
        actor=staff["lead"],
        answers=journey_services.DebriefAnswers(
            problems=["checkpoint"], notes=mark(Debrief, "notes")
        ),
    )


def stay_in_beds(case, staff, mark):
    coordinator = staff["coordinator_housing"]
    start = timezone.localdate() - datetime.timedelta(days=20)
    stay = housing_services.allocation_create(
        actor=coordinator, occupant=housing_services.Occupant(case), bed=BedFactory(), start=start
    )
    housing_services.allocation_transfer(
        allocation=stay,
        actor=coordinator,
        to_bed=BedFactory(),
        on=start + datetime.timedelta(days=10),
        reason=mark(Allocation, "move_reason"),
    )
    member = FamilyMember.objects.get(case=case)
    undone = housing_services.allocation_create(
        actor=coordinator,
        occupant=housing_services.Occupant(case, member),
        bed=BedFactory(),
        start=timezone.localdate(),
    )
    housing_services.allocation_undo(
        allocation=undone, actor=coordinator, reason=mark(Allocation, "cancel_reason")
    )


def pay(case, staff, mark):
    officer, approver = staff["finance_officer"], staff["finance_approver"]
    StipendPlanFactory(
        case=case,
        start_date=timezone.localdate().replace(day=1) - datetime.timedelta(days=40),
        payout_method="mobile_money",
        payout_account=mark(StipendPlan, "payout_account"),
    )
    (batch,) = payment_services.disbursement_run(
        period=timezone.localdate().replace(day=1), actor=officer
    )
    # The run copied the plan's wallet onto the line; a marker of its own proves that copy goes.
    line = Payment.objects.get(case=case, plan__isnull=False)
    line.payee_account = mark(Payment, "payee_account")
    line.save(update_fields=["payee_account"])
    payment_services.batch_approve(batch=batch, actor=approver)
    payment_services.payments_record(
        payments=list(Payment.objects.filter(case=case, plan__isnull=False)),
        actor=officer,
        outcome="paid",
        method="mobile_money",
        reference=mark(Payment, "reference"),
    )
    source = FundingSourceFactory(name="Fictional Reward Fund", currency="MMK")
    RewardPolicy.objects.create(
        item_type="rifle", amount=Decimal("50000"), validity=(datetime.date(2018, 1, 1), None)
    )
    reward = payment_services.one_off_propose(
        case=case,
        actor=officer,
        kind="reward",
        amount=Decimal("150000"),
        currency="MMK",
        funding_source=source,
        description=mark(OneOffPayment, "description"),
        adjustment_reason=mark(OneOffPayment, "adjustment_reason"),
    )
    reward = approve_one_off(reward, staff)
    payment_services.one_off_pay(one_off=reward, actor=officer, method="cash", acknowledged=True)
    refused = payment_services.one_off_propose(
        case=case,
        actor=officer,
        kind="medical",
        amount=Decimal("20000"),
        currency="MMK",
        funding_source=source,
        description="x",
    )
    payment_services.one_off_reject(
        one_off=refused, actor=approver, reason=mark(OneOffPayment, "rejection_reason")
    )


def approve_one_off(one_off, staff):
    for approver in (staff["finance_approver"], staff["second_finance_approver"]):
        one_off = payment_services.one_off_approve(one_off=one_off, actor=approver)
        if one_off.status != "proposed":
            break
    return one_off


# Written in the erasure request's note, which stays clear by design: the search must find it,
# or it would prove nothing.
CANARY = "ZQCANARY-request-note"


def erase(case, staff):
    pending = erasure.erasure_request(
        case=case,
        actor=staff["manager"],
        reason="person_request",
        note=CANARY,
        confirmation=case.code,
    )
    for approver in (staff["second_manager"], staff["administrator"]):
        pending = erasure.erasure_approve(erasure=pending, actor=approver, confirmation=case.code)
    assert pending.status == "carried_out"


def figures():
    start, end = datetime.date(2018, 1, 1), timezone.localdate()
    return {
        "months": selectors.monthly_counts(date_from=start, date_to=end),
        "breakdowns": selectors.breakdowns(date_from=start, date_to=end),
        "rows": list(selectors.report_case_rows(date_from=start, date_to=end)),
        "bed_nights": housing_selectors.bed_nights_per_month(
            date_from=end - datetime.timedelta(days=60), date_to=end
        ),
        "stays": housing_selectors.stay_figures(),
        "ledger": payment_selectors.ledger_totals(filters=payment_selectors.LedgerFilters()),
        "paid": payment_selectors.paid_per_month(months=3),
    }


def pg_dump_text() -> str:
    database = connection.settings_dict
    with connect(database) as own:
        major = _server_major_version(own)
    output = subprocess.run(  # a PostgreSQL program found by postgres_tool; no shell
        [postgres_tool("pg_dump", server_major=major), "--format=plain", "--no-password"],
        capture_output=True,
        check=True,
        env=_libpq_environment(database),
        timeout=300,
    )
    return output.stdout.decode("utf-8", errors="replace")


def private_files_bytes() -> list[tuple[str, bytes]]:
    found = []
    for folder, _dirs, files in os.walk(settings.MEDIA_ROOT):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                found.append((path, handle.read()))
    return found


def redis_values() -> list[bytes]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    values = []
    for key in client.scan_iter(count=500):
        kind = client.type(key)
        if kind == b"string":
            values.append(client.get(key) or b"")
        elif kind == b"list":
            values.extend(client.lrange(key, 0, -1))
        elif kind == b"hash":
            values.extend(client.hgetall(key).values())
        values.append(key)
    return values


def leftovers(needles: list[str]) -> list[str]:
    dump = pg_dump_text()
    files = private_files_bytes()
    cached = redis_values()
    found = []
    for needle in needles:
        if needle in dump:
            found.append(f"{needle} in pg_dump")
        encoded = needle.encode()
        found.extend(f"{needle} in {path}" for path, content in files if encoded in content)
        if any(encoded in value for value in cached):
            found.append(f"{needle} in Redis")
    return found


@pytest.fixture
def staff(make_staff):
    return {
        "manager": make_staff(Role.CASE_MANAGER),
        "second_manager": make_staff(Role.CASE_MANAGER),
        "administrator": make_staff(Role.ADMINISTRATOR, is_staff=True),
        "outsider": make_staff(Role.CASE_MANAGER),
        "coordinator": make_staff(Role.JOURNEY_COORDINATOR),
        "lead": make_staff(Role.CASE_MANAGER),
        "backup": make_staff(Role.INTAKE_OFFICER),
        "coordinator_housing": make_staff(Role.HOUSING_COORDINATOR),
        "finance_officer": make_staff(Role.FINANCE_OFFICER),
        "finance_approver": make_staff(Role.FINANCE_APPROVER),
        "second_finance_approver": make_staff(Role.FINANCE_APPROVER),
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_erasure_no_word_about_the_person_is_left_anywhere(staff, settings, tmp_path, login):
    settings.MEDIA_ROOT = tmp_path
    markers = Markers()
    case = build_case_with_everything(markers, staff)
    # Another case, so that the statistics are not about one person only, found to be another
    # person: the reason is about both of them.
    other = VerifiedCaseFactory(force="police", rank="major")
    add_to_team(other, staff["manager"])
    services.duplicate_dismiss(
        first=other,
        second=case,
        actor=staff["manager"],
        reason=markers.of("cases.DuplicateDismissal", "reason"),
    )

    # Every typed encrypted field of every record about the case got a marker, so a field added
    # later is covered (or this fails).
    typed = (
        {
            field_label(model, field)
            for model in models_about_a_case()
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedField) and not isinstance(field, EncryptedDateField)
        }
        - PICKED_NOT_TYPED
        - {"cases.Case.township", "cases.Case.rank"}  # checked below as TOWNSHIP and RANK
    )
    assert typed <= set(markers), sorted(typed - set(markers))

    # Before: the team reads the markers back (they were really written), and a page and a
    # session went through Redis.
    client = login(staff["manager"])
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    other_page = client.get(reverse("cases:detail", args=[other.pk])).content.decode()
    assert case.code in other_page
    assert markers.of("cases.DuplicateDismissal", "reason") in other_page
    assert Case.objects.get(pk=case.pk).decision_reason == markers.of(
        "cases.Case", "decision_reason"
    )
    stipend_line = Payment.objects.get(case=case, plan__isnull=False)
    assert stipend_line.reference == markers.of("payments.Payment", "reference")
    before = figures()
    assert sum(row.nights for row in before["bed_nights"]) > 0
    needles = [
        *markers.values(),
        TOWNSHIP,
        RANK,
        ALL_CLEAR,
        DURESS,
        *(day.isoformat() for day in (CONTACT, DEFECTION, BIRTH)),
    ]
    # Nothing was ever stored in clear: encrypted at rest, in rows and history alike.
    assert leftovers(needles) == []

    erase(case, staff)
    data_key_cache.clear()
    # The nightly retention run, as a worker runs it, with its result in the result backend.
    run = propose_erasures.apply()
    celery_app.backend.store_result(run.id, run.result, run.state)
    assert TaskResult.objects.filter(task_id=run.id).exists()

    assert leftovers(needles) == []
    assert leftovers([CANARY]) == [f"{CANARY} in pg_dump"]
    erased = Case.objects.get(pk=case.pk)
    assert erased.township is ERASED and erased.contact_date is ERASED
    assert erased.decision_reason is ERASED
    assert Referral.objects.get(case=case).purpose is ERASED
    assert Payment.objects.get(pk=stipend_line.pk).reference is ERASED
    assert not DataKey.objects.filter(
        pk__in=[
            case.data_key_id,
            *Journey.objects.filter(case=case).values_list("data_key_id", flat=True),
        ],
        wrapped_key__isnull=False,
    ).exists()
    assert erased.rank is ERASED
    dismissal = DuplicateDismissal.objects.get(first_case=min(case, other, key=lambda c: c.pk))
    assert dismissal.reason is ERASED
    assert DataKey.objects.get(pk=dismissal.data_key_id).wrapped_key is None
    # What stays: region, month, force, rank group and amounts; reports and totals unchanged.
    assert (
        erased.region,
        erased.contact_month,
        erased.defection_month,
        erased.force,
        erased.rank_group,
    ) == ("sagaing", CONTACT.replace(day=1), DEFECTION.replace(day=1), "army", "junior_officer")
    assert figures() == before
    # The other case's team still sees that the two were found to be different people; the
    # reason went with the erased identity.
    page = client.get(reverse("cases:detail", args=[other.pk])).content.decode()
    assert case.code in page and "reason erased with an identity" in page
    assert markers.of("cases.DuplicateDismissal", "reason") not in page
