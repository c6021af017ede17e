"""Minimisation: HAVEN_JOURNEY_RETENTION_DAYS after a journey ends, its data key is destroyed and
its code-word hashes blanked; nothing of the route, the code words or the notes stays readable
in the tables or their history, while the times and counts stay the same."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases.choices import JourneyEventKind
from cases.models import JourneyEvent
from journeys import services, tasks
from journeys.models import (
    CheckIn,
    CodeWordResult,
    ContingencyStep,
    Debrief,
    Escalation,
    Journey,
    Leg,
)
from journeys.services.code_words import _compare
from operations import health, schedules
from protection.keys import Erased
from tests.journeys.conftest import ALL_CLEAR, CHANNEL_DETAILS, DURESS, NOTE

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
MARKERS = [CHANNEL_DETAILS, NOTE, "Bus at dawn", "Call the brother", "SH-07", ALL_CLEAR]


def journey_tables() -> list[str]:
    """Every table of journeys, the history's event tables included."""
    return [model._meta.db_table for model in apps.get_app_config("journeys").get_models()]


def rows_containing(needle: str) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for table in journey_tables():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" t WHERE strpos(t::text, %s) > 0',  # noqa: S608
                [needle],
            )
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def statistics(journey: Journey) -> dict:
    return {
        "check_ins": list(
            CheckIn.objects.filter(journey=journey)
            .order_by("pk")
            .values_list("at", "channel", "result", "coarse_location", "late")
        ),
        "escalations": list(
            Escalation.objects.filter(journey=journey)
            .order_by("pk")
            .values_list("step", "at", "closed_at", "closed_reason")
        ),
        "windows": list(
            journey.windows.order_by("pk").values_list(
                "due_at", "grace_ends_at", "checked_in_at", "stopped_at"
            )
        ),
        "legs": list(Leg.objects.filter(journey=journey).values_list("from_place", "to_place")),
        "journey": Journey.objects.filter(pk=journey.pk)
        .values_list("status", "created_at", "ended_at", "grace_minutes", "every_hours")
        .get(),
    }


@pytest.fixture
def ended(journey, lead, time_machine_now):
    time_machine_now.shift(2 * 3600)
    services.check_in_record(
        journey=journey, actor=lead, word=ALL_CLEAR, channel="signal", note=NOTE
    )
    services.journey_mark_arrived(journey=journey, actor=lead)
    return Journey.objects.get(pk=journey.pk)


def test_nothing_is_minimised_before_the_retention_period(ended, time_machine_now, settings):
    settings.HAVEN_JOURNEY_RETENTION_DAYS = 30
    time_machine_now.shift((29 * DAY).total_seconds())
    assert tasks.minimise() == 0
    journey = Journey.objects.select_related("data_key").get(pk=ended.pk)
    assert journey.minimised_at is None
    assert journey.data_key.destroyed_at is None
    assert journey.channel_details == CHANNEL_DETAILS
    assert journey.all_clear_hash


def test_an_active_journey_is_never_minimised(journey, time_machine_now):
    time_machine_now.shift((90 * DAY).total_seconds())
    assert tasks.minimise() == 0
    assert Journey.objects.get(pk=journey.pk).minimised_at is None


def test_minimisation_leaves_nothing_readable_and_the_statistics_intact(
    ended, time_machine_now, settings
):
    settings.HAVEN_JOURNEY_RETENTION_DAYS = 30
    hashes = [ended.all_clear_hash, ended.duress_hash]
    before = statistics(ended)
    for needle in hashes:
        assert rows_containing(needle) == ["journeys_journey"]

    time_machine_now.shift((31 * DAY).total_seconds())
    assert tasks.minimise() == 1

    journey = Journey.objects.select_related("data_key").get(pk=ended.pk)
    assert journey.minimised_at == timezone.now()
    assert journey.data_key.destroyed_at is not None
    assert journey.data_key.wrapped_key is None
    assert (journey.all_clear_hash, journey.duress_hash) == ("", "")
    assert isinstance(journey.channel_details, Erased)
    assert isinstance(journey.travellers or Erased(), Erased)
    for leg in Leg.objects.filter(journey=journey):
        assert isinstance(leg.details, Erased)
    for step in ContingencyStep.objects.filter(journey=journey):
        assert isinstance(step.details, Erased)
        assert isinstance(step.house_code or Erased(), Erased)
    for check_in in CheckIn.objects.filter(journey=journey):
        assert isinstance(check_in.note, Erased)
    # The plaintext never was in a table; the hashes are gone from every one, history included.
    for needle in [*MARKERS, *hashes]:
        assert rows_containing(needle) == [], needle
    assert statistics(journey) == before
    # No code word matches any more.
    assert _compare(journey, ALL_CLEAR) == CodeWordResult.NO_MATCH


def test_a_second_run_does_nothing(ended, time_machine_now):
    time_machine_now.shift((31 * DAY).total_seconds())
    assert tasks.minimise() == 1
    first = Journey.objects.get(pk=ended.pk).minimised_at
    time_machine_now.shift(DAY.total_seconds())
    assert tasks.minimise() == 0
    assert services.journey_minimise(journey_id=ended.pk) is False
    assert Journey.objects.get(pk=ended.pk).minimised_at == first


def test_a_cancelled_journey_is_minimised_too(journey, coordinator, time_machine_now):
    services.journey_cancel(journey=journey, actor=coordinator)
    time_machine_now.shift((31 * DAY).total_seconds())
    assert services.minimisation_sweep() == [journey.pk]


def test_the_journey_page_says_when(login, ended, coordinator, time_machine_now):
    time_machine_now.shift((31 * DAY).total_seconds())
    tasks.minimise()
    response = login(coordinator).get(reverse("journeys:detail", args=[ended.pk]))
    assert response.status_code == 200
    assert b'id="journey-minimised"' in response.content
    assert CHANNEL_DETAILS.encode() not in response.content


def test_the_task_is_allowed_watched_and_scheduled():
    from django_celery_beat.models import PeriodicTask

    assert "journeys.minimise" in schedules.schedulable_tasks()
    assert "journeys.minimise" in health.watched()
    assert PeriodicTask.objects.filter(task="journeys.minimise").exists()


DEBRIEF_NOTE = "Next time avoid the checkpoint behind the market in Kalay"


def test_the_debrief_notes_go_with_the_key_and_its_categories_stay(
    ended, lead, time_machine_now, login
):
    services.debrief_record(
        journey=ended,
        actor=lead,
        answers=services.DebriefAnswers(
            problems=["checkpoint"],
            contingency_used=["warn_person"],
            channels_worked=["signal"],
            leg_hours={1: Decimal("5.5")},
            notes=DEBRIEF_NOTE,
        ),
    )
    time_machine_now.shift((31 * DAY).total_seconds())
    assert tasks.minimise() == 1
    debrief = Debrief.objects.get(journey=ended)
    assert isinstance(debrief.notes, Erased)
    assert (debrief.problems, debrief.contingency_used, debrief.channels_worked) == (
        ["checkpoint"],
        ["warn_person"],
        ["signal"],
    )
    assert Leg.objects.get(journey=ended, position=1).hours_taken == Decimal("5.5")
    assert rows_containing(DEBRIEF_NOTE) == []
    # The case's journey tab says when the plan was destroyed, by Haven on its schedule.
    event = JourneyEvent.objects.get(case=ended.case, kind=JourneyEventKind.PLAN_DESTROYED)
    assert event.by is None
    assert event.at == timezone.now()
    response = login(lead).get(reverse("cases:journey", args=[ended.case.pk]))
    assert response.status_code == 200
    assert "Journey plan destroyed after its retention period" in response.content.decode()
    # And the debrief can no longer be changed.
    with pytest.raises(services.JourneyError):
        services.debrief_record(
            journey=ended, actor=lead, answers=services.DebriefAnswers(problems=["other"])
        )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_minimisation_a_pg_dump_holds_no_route_code_word_or_note(
    ended, lead, time_machine_now
):
    """The issue's test, on the whole database as a backup would hold it: no route detail, code
    word (nor its hash) or note of the journey or its debrief is in a pg_dump once minimised."""
    from tests.cases.test_anonymisation import pg_dump_text

    services.debrief_record(
        journey=ended,
        actor=lead,
        answers=services.DebriefAnswers(problems=["checkpoint"], notes=DEBRIEF_NOTE),
    )
    hashes = [ended.all_clear_hash, ended.duress_hash]
    before = pg_dump_text()
    # The dump sees the committed journey (its hashes are stored as they are), so a miss below
    # is a real absence.
    assert all(needle in before for needle in hashes)
    time_machine_now.shift((31 * DAY).total_seconds())
    assert tasks.minimise() == 1
    dump = pg_dump_text()
    assert ended.case.code in dump
    for needle in [*MARKERS, *hashes, DEBRIEF_NOTE, DURESS]:
        assert needle not in dump, needle
