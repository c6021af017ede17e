"""No oracles: a search by service or ID number needs the reveal permission, is written to the
access log, and is limited per person and hour, with the administrators alerted once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from audit.models import AccessLog
from notifications.models import Notification
from tests.factories import CaseFactory, add_to_team

pytestmark = pytest.mark.django_db


def test_an_auditor_cannot_learn_which_case_holds_a_service_number(login, make_staff):
    """The attack of issue 14: the auditor, who may not reveal, types a number from an army
    list into the search to learn whether that person is in Haven."""
    wanted = CaseFactory(service_number="BA-880011")
    other = CaseFactory(service_number="BA-880012")
    auditor = make_staff(Role.AUDITOR)
    response = login(auditor).post(reverse("cases:list"), {"q": "BA-880011"}, follow=True)
    page = response.content.decode()
    assert "needs the permission to see identities" in page
    assert "BA-880011" not in page
    # The page lists cases, but not as an answer: every case, as without a search.
    assert wanted.code in page and other.code in page
    refused = AccessLog.objects.get(actor=auditor, action=AccessLog.Action.DENIED)
    assert refused.detail["action"] == "lookup: case search"
    assert "BA-880011" not in str(refused.detail)
    assert not AccessLog.objects.filter(action=AccessLog.Action.LOOKUP).exists()


def test_each_search_by_number_is_logged_and_limited_per_hour(login, make_staff, settings):
    settings.HAVEN_LOOKUP_LIMIT_PER_HOUR = 3
    administrator = make_staff(Role.ADMINISTRATOR)
    wanted = CaseFactory(service_number="BA-880022")
    manager = make_staff(Role.CASE_MANAGER)
    add_to_team(wanted, manager)
    client = login(manager)
    for _ in range(3):
        response = client.post(reverse("cases:list"), {"q": "BA-880022"})
        assert wanted.code in response.content.decode()
    logged = AccessLog.objects.filter(action=AccessLog.Action.LOOKUP)
    assert logged.count() == 3
    assert {entry.detail["kind"] for entry in logged} == {"case search"}

    for _ in range(2):  # over the limit: refused, and the administrators are told once
        response = client.post(reverse("cases:list"), {"q": "BA-880022"}, follow=True)
        page = response.content.decode()
        assert "3 searches by service or ID number in the last hour" in page
        assert "BA-880022" not in page
    assert logged.count() == 3
    alert = Notification.objects.get(kind="cases.lookup_limit")
    assert alert.recipient == administrator and "BA-880022" not in alert.text

    # A search by case code is no look-up by a protected value: neither counted nor limited.
    by_code = client.post(reverse("cases:list"), {"q": wanted.code})
    assert by_code.status_code == 302
