"""The journey forms that tests/hostile cannot reach (its organisation has no journey): the
check-in, the code-word check and the incident's acknowledgement get the same hostile posts
as every other form. Never a server error or a traceback, never markup shown unescaped."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from journeys import services
from journeys.models import Escalation, Step
from tests.hostile.htmlforms import forms_of
from tests.hostile.test_forms import fuzz, sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(journey, settings):
    # Hypothesis posts many code words: the hour's limit would refuse most of them.
    settings.HAVEN_JOURNEY_CODE_WORD_CHECKS_PER_HOUR = 100_000
    end = journey.windows.order_by("due_at").first().grace_ends_at
    services.escalation_sweep(now=end + datetime.timedelta(hours=3))
    incident = Escalation.objects.get(step=Step.CONTINGENCY)
    return [
        reverse("journeys:check_in", kwargs={"pk": journey.pk}),
        reverse("journeys:code_word", kwargs={"pk": journey.pk}),
        reverse("journeys:incident", kwargs={"pk": journey.pk, "escalation_pk": incident.pk}),
        reverse("journeys:detail", kwargs={"pk": journey.pk}),
    ]


def test_hostile_posts_break_no_journey_form(login, lead, pages):
    client = login(lead)
    fuzzed = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200
        for form in forms_of(response.content.decode(), url):
            if form.method != "post" or "/accounts/" in form.action or "setlang" in form.action:
                continue
            fuzz(client, form, "lead handler")
            sweep(client, form, "lead handler")
            fuzzed += 1
    assert fuzzed >= 4
