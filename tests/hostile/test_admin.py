"""The admin site's lists, with hostile searches, filters, orderings and pages, as the two
roles that may use it."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from accounts.roles import Role
from tests.factories import CaseFactory, StipendPlanFactory
from tests.hostile.conftest import HOSTILE_PAGES, check_response, in_savepoint, submit_and_check
from tests.hostile.htmlforms import ParsedForm, forms_of
from tests.hostile.strategies import NASTY_NUMBERS, hostile_text
from tests.hostile.test_forms import describe, fuzz, sweep
from tests.url_walker import walk

pytestmark = pytest.mark.django_db


def changelists() -> list[str]:
    return sorted(walked.url for walked in walk() if walked.name.endswith("_changelist"))


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.AUDITOR])
def test_hostile_admin_list_queries_break_nothing(make_staff, login, role):
    CaseFactory()
    StipendPlanFactory()
    client = login(make_staff(role, is_staff=True), Client(raise_request_exception=False))
    broken = []
    for url in changelists():
        try:
            search(client, url)
        except AssertionError as failure:
            broken.append(describe(failure))
    assert broken == [], "\n\n".join(broken)


def search(client: Client, url: str) -> None:
    form = ParsedForm(method="get", action=url, multipart=False)
    junk = st.one_of(hostile_text(), st.sampled_from(NASTY_NUMBERS))

    @HOSTILE_PAGES
    @given(
        data=st.fixed_dictionaries(
            {"q": junk},
            optional={"o": junk, "p": junk, "e": junk, "all": junk, "id__exact": junk},
        )
    )
    def query(data):
        in_savepoint(lambda: submit_and_check(client, form, data, f"GET {url} {data!r}"))

    query()


def add_pages() -> list[str]:
    return sorted(walked.url for walked in walk() if walked.name.endswith("_add"))


def test_hostile_admin_add_forms_break_nothing(make_staff, login):
    """Every add form of the admin the administrator may use, with the sweep and a few
    random posts (a change form posts the same fields)."""
    client = login(
        make_staff(Role.ADMINISTRATOR, is_staff=True), Client(raise_request_exception=False)
    )
    broken = []
    for url in add_pages():
        response = client.get(url)
        check_response(response, f"GET {url}")
        if response.status_code != 200:
            continue
        for form in forms_of(response.content.decode(), url):
            if form.method != "post" or form.action != url:
                continue
            try:
                fuzz(client, form, Role.ADMINISTRATOR)
                sweep(client, form, Role.ADMINISTRATOR)
            except AssertionError as failure:
                broken.append(describe(failure))
    assert broken == [], "\n\n".join(broken)
