"""The admin site's lists, with hostile searches, filters, orderings and pages, as the two
roles that may use it."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
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


def filter_queries(model_admin) -> list[dict[str, str]]:
    """A NUL and an enormous number in each list filter and date-hierarchy part of an admin."""
    queries: list[dict[str, str]] = []
    part = model_admin.date_hierarchy
    if part:
        queries += [
            {f"{part}__year": "9999", f"{part}__month": "12", f"{part}__day": "31"},
            {f"{part}__year": "9999", f"{part}__month": "12"},
            {f"{part}__year": "9999"},
            {f"{part}__year": "2026", f"{part}__month": "2", f"{part}__day": "31"},
            {f"{part}__year": "0"},
        ]
    for value in ("\x00", "9" * 30):
        if part:
            queries += [
                {f"{part}__year": value},
                {f"{part}__year": "2026", f"{part}__month": value},
                {f"{part}__year": "2026", f"{part}__month": "2", f"{part}__day": value},
            ]
        for name in model_admin.list_filter:
            if isinstance(name, str):
                queries += [{name: value}, {f"{name}__exact": value}]
    return queries


def test_admin_list_filters_with_a_nul_or_an_enormous_number_are_refused_quietly(make_staff, login):
    client = login(
        make_staff(Role.ADMINISTRATOR, is_staff=True), Client(raise_request_exception=False)
    )
    broken = []
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for query in filter_queries(model_admin):
            status = client.get(url, query).status_code
            if status >= 500:
                broken.append(f"{url} {query!r}: {status}")
    assert broken == []
    # The refusal is the 400 page, not the list filtered by nothing.
    response = client.get("/admin/audit/accesslog/", {"action__exact": "\x00"})
    assert response.status_code == 400 and b"Traceback" not in response.content


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
