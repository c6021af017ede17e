"""The countdowns of the board and the dashboards, in Haven's own words in both languages."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation

from journeys.templatetags.journeys_time import time_between

NOW = timezone.now()


@pytest.mark.parametrize(
    ("minutes", "english"),
    [
        (0, "0 minutes"),
        (1, "1 minute"),
        (45, "45 minutes"),
        (60, "1 hour"),
        (211, "3 hours, 31 minutes"),
        (24 * 60 + 120, "1 day, 2 hours"),
        (3 * 24 * 60 + 5, "3 days"),
    ],
)
def test_before_and_after_read_the_same(minutes, english):
    delta = datetime.timedelta(minutes=minutes, seconds=20)
    with translation.override("en"):
        assert time_between(NOW + delta, NOW) == english
        assert time_between(NOW - delta, NOW) == english


def test_burmese_has_no_english_word():
    with translation.override("my"):
        text = time_between(NOW + datetime.timedelta(hours=3, minutes=31), NOW)
    assert "hour" not in text and "minute" not in text
    assert "နာရီ" in text and "မိနစ်" in text


def test_no_moment_says_nothing():
    assert time_between(None, NOW) == ""
