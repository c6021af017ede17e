"""Code words: all clear, DURESS or no match; every check logged without the word; checks
limited per journey and hour; repeated misses alert the coordinators."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from accounts.roles import Role
from audit.models import AccessLog
from journeys import services
from journeys.models import CodeWordCheck
from journeys.services import RateLimited
from notifications.models import Notification
from tests.journeys.conftest import ALL_CLEAR, DURESS

pytestmark = pytest.mark.django_db


def test_the_three_answers(journey, lead):
    assert services.code_word_check(journey=journey, actor=lead, word=ALL_CLEAR) == "all_clear"
    assert services.code_word_check(journey=journey, actor=lead, word=DURESS) == "duress"
    assert services.code_word_check(journey=journey, actor=lead, word="banana") == "no_match"


def test_words_are_heard_whatever_the_case_and_spacing(journey, lead):
    heard = "  RIVER   Mango "
    assert services.code_word_check(journey=journey, actor=lead, word=heard) == "all_clear"


def test_every_check_is_logged_without_the_word(journey, lead):
    services.code_word_check(journey=journey, actor=lead, word=ALL_CLEAR)
    services.code_word_check(journey=journey, actor=lead, word="wrong word")
    entries = AccessLog.objects.filter(action=AccessLog.Action.CODE_WORD_CHECKED)
    assert entries.count() == 2
    assert {entry.detail["result"] for entry in entries} == {"all_clear", "no_match"}
    for entry in entries:
        text = f"{entry.detail} {entry.target_label} {entry.field}"
        assert ALL_CLEAR not in text and "wrong word" not in text
        assert entry.target_label == journey.case.code


def test_checks_are_rate_limited_per_journey(journey, lead, settings):
    settings.HAVEN_JOURNEY_CODE_WORD_CHECKS_PER_HOUR = 3
    settings.HAVEN_JOURNEY_NO_MATCH_ALERT_AFTER = 100
    for _attempt in range(3):
        services.code_word_check(journey=journey, actor=lead, word="guess")
    with pytest.raises(RateLimited):
        services.code_word_check(journey=journey, actor=lead, word=ALL_CLEAR)
    assert CodeWordCheck.objects.filter(journey=journey).count() == 3
    refused = AccessLog.objects.filter(
        action=AccessLog.Action.CODE_WORD_CHECKED, detail__result="refused: limit reached"
    )
    assert refused.count() == 1


def test_the_limit_lifts_after_an_hour(journey, lead, settings, time_machine_now):
    settings.HAVEN_JOURNEY_CODE_WORD_CHECKS_PER_HOUR = 2
    settings.HAVEN_JOURNEY_NO_MATCH_ALERT_AFTER = 100
    services.code_word_check(journey=journey, actor=lead, word="guess")
    services.code_word_check(journey=journey, actor=lead, word="guess")
    time_machine_now.shift(3700)
    assert services.code_word_check(journey=journey, actor=lead, word=ALL_CLEAR) == "all_clear"


def test_repeated_misses_alert_the_coordinators(journey, lead, coordinator, settings):
    settings.HAVEN_JOURNEY_NO_MATCH_ALERT_AFTER = 3
    services.code_word_check(journey=journey, actor=lead, word=ALL_CLEAR)
    for _attempt in range(2):
        services.code_word_check(journey=journey, actor=lead, word="guess")
    assert not Notification.objects.filter(kind="journeys.code_word_misses").exists()
    services.code_word_check(journey=journey, actor=lead, word="guess again")
    services.code_word_check(journey=journey, actor=lead, word="and again")
    alerts = Notification.objects.filter(kind="journeys.code_word_misses")
    assert list(alerts.values_list("recipient", flat=True)) == [coordinator.pk]
    assert alerts.get().parameters == {"case": journey.case.code, "count": "3"}


def test_only_handlers_and_coordinators_check(journey, outsider, make_staff):
    with pytest.raises(PermissionDenied):
        services.code_word_check(journey=journey, actor=outsider, word=ALL_CLEAR)
    auditor = make_staff(Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.code_word_check(journey=journey, actor=auditor, word=ALL_CLEAR)
    assert not CodeWordCheck.objects.exists()


def test_the_words_are_hashed_like_passwords(journey):
    assert journey.all_clear_hash.startswith(("md5$", "pbkdf2", "argon2", "bcrypt", "scrypt"))
    assert ALL_CLEAR not in journey.all_clear_hash


def test_myanmar_digits_equal_western_digits_in_a_code_word(plan, lead):
    journey = plan(all_clear_word="tiger 42", duress_word="tiger 99")
    assert services.code_word_check(journey=journey, actor=lead, word="Tiger ၄၂") == "all_clear"


def test_duress_heard_in_a_word_check_alone_raises_the_alarm(journey, lead, coordinator):
    """A handler who checks the word before recording the check-in is not the only one who
    knows: the flag goes up and the coordinators hear at once, once per check."""
    from cases.models import JourneyEvent

    assert services.code_word_check(journey=journey, actor=lead, word=DURESS) == "duress"
    journey.case.refresh_from_db()
    assert journey.case.emergency
    assert JourneyEvent.objects.filter(case=journey.case, kind="emergency_on").exists()
    alerts = Notification.objects.filter(kind="journeys.duress", recipient=coordinator)
    assert alerts.count() == 1
    assert alerts.get().severity == "urgent"
    # An all-clear check raises nothing.
    services.code_word_check(journey=journey, actor=lead, word=ALL_CLEAR)
    assert Notification.objects.filter(kind="journeys.duress", recipient=coordinator).count() == 1


def test_myanmar_digits_of_other_scripts_too(plan, lead):
    journey = plan(all_clear_word="tiger 42", duress_word="tiger 99")
    # Shan digits (U+1090…) are digits of the same numbers.
    assert services.code_word_check(journey=journey, actor=lead, word="tiger ႔႒") == "all_clear"
