"""Choice labels, built once per field, still follow the language of each request."""

from __future__ import annotations

import pytest
from django.utils import translation

from cases.choices import Force
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_choice_label_follows_the_language_after_the_labels_are_cached():
    case = CaseFactory(force=Force.ARMY)

    with translation.override("en"):
        english = case.get_force_display()
    with translation.override("my"):
        burmese = case.get_force_display()
    with translation.override("en"):
        english_again = case.get_force_display()

    assert english == english_again == "Army"
    assert burmese == "စစ်တပ်"


def test_a_value_outside_the_choices_is_shown_as_it_is():
    case = CaseFactory.build(force="navy")
    assert case.get_force_display() == "navy"
