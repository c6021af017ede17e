"""The pages reached before or while signing in, and the language switch on every page, with
hostile input: the login, the second-factor step, enrolment and the language switch."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from accounts.roles import Role
from tests.factories import DEFAULT_PASSWORD
from tests.hostile.conftest import HOSTILE, check_response, in_savepoint, submit_and_check
from tests.hostile.htmlforms import ParsedForm, forms_of
from tests.hostile.strategies import (
    NASTY_TEXT,
    SWEEPS,
    hostile_text,
    submissions,
    sweep_submission,
)

pytestmark = pytest.mark.django_db


def page_form(client: Client, url: str) -> ParsedForm:
    response = client.get(url)
    check_response(response, f"GET {url}")
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    (form,) = [form for form in forms_of(response.content.decode(), url) if form.action == url]
    return form


def fuzz(client: Client, form: ParsedForm, who: str) -> None:
    @HOSTILE
    @given(data=submissions(form))
    def submit(data):
        what = f"POST {form.action} as {who} with {data!r}"
        in_savepoint(lambda: submit_and_check(client, form, data, what))

    submit()
    for values in SWEEPS:
        data = sweep_submission(form, values)
        what = f"POST {form.action} as {who} with {data!r}"
        in_savepoint(lambda data=data, what=what: submit_and_check(client, form, data, what))


def test_hostile_logins_break_nothing():
    client = Client(raise_request_exception=False)
    fuzz(client, page_form(client, "/accounts/login/"), "an anonymous visitor")


def test_hostile_second_factor_codes_break_nothing(make_staff, login):
    user = make_staff(Role.CASE_MANAGER)
    login(user)  # gives the user a confirmed device
    client = Client(raise_request_exception=False)
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    fuzz(client, page_form(client, "/accounts/2fa/verify/"), "a half-signed-in user")


def test_hostile_enrolment_codes_break_nothing(make_staff):
    user = make_staff(Role.CASE_MANAGER)
    client = Client(raise_request_exception=False)
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    fuzz(client, page_form(client, "/accounts/2fa/enrol/"), "a user without a device")


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_hostile_language_switches_break_nothing(make_staff, login, signed_in):
    client = Client(raise_request_exception=False)
    if signed_in:
        client = login(make_staff(Role.INTAKE_OFFICER), client)
    form = ParsedForm(method="post", action="/i18n/setlang/", multipart=False)
    values = st.one_of(st.sampled_from(("en", "my", "")), hostile_text())

    @HOSTILE
    @given(language=values, next_url=st.one_of(st.sampled_from(NASTY_TEXT), values))
    def switch(language, next_url):
        data = {"language": language, "next": next_url}
        in_savepoint(lambda: submit_and_check(client, form, data, f"set_language {data!r}"))

    switch()
