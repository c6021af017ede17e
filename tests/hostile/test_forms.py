"""Every form of the site, found by walking the URL resolver and reading each page as every
role that may open it, gets hostile posts: never a server error or a traceback, never markup
shown unescaped, and a refused post changes nothing. A view added later is covered as soon as
it is in a role matrix (or, if it is in none, for every role)."""

from __future__ import annotations

import datetime
import re
from urllib.parse import parse_qsl

import pytest
from hypothesis import given

from accounts.roles import Role
from tests.cases.test_role_matrix import ALLOWED as CASE_ROLES
from tests.hostile.conftest import (
    HOSTILE,
    HOSTILE_PAGES,
    check_response,
    concrete_urls,
    in_savepoint,
    submit_and_check,
    target_name,
)
from tests.hostile.htmlforms import FormField, ParsedForm, forms_of
from tests.hostile.strategies import (
    SCRIPT_PAYLOADS,
    SWEEPS,
    query_strings,
    submissions,
    sweep_submission,
)
from tests.housing.test_role_matrix import ALLOWED as HOUSING_ROLES
from tests.payments.test_role_matrix import ALLOWED as PAYMENT_ROLES
from tests.url_walker import WalkedURL, walk

pytestmark = pytest.mark.django_db

ROLES_OF = {**CASE_ROLES, **HOUSING_ROLES, **PAYMENT_ROLES}
# Fuzzed on their own (tests/hostile/test_public.py): anonymous pages, and the language switch
# that every page carries.
PUBLIC = {"accounts:login", "accounts:otp_verify", "accounts:otp_enrol", "set_language", "healthz"}


GROUP_SIZE = 8


def site_urls() -> list[WalkedURL]:
    return sorted(
        (
            walked
            for walked in walk()
            if not walked.url.startswith("/admin/") and walked.name not in PUBLIC
        ),
        key=lambda walked: walked.name,
    )


def url_groups() -> list[list[WalkedURL]]:
    """A few URLs per test: the organisation is built once for each group, not for each URL."""
    urls = site_urls()
    return [urls[start : start + GROUP_SIZE] for start in range(0, len(urls), GROUP_SIZE)]


def group_id(group: list[WalkedURL]) -> str:
    return f"{group[0].name}..{group[-1].name}"


def _own_forms(world, login, walked: WalkedURL) -> list[tuple[str, ParsedForm]]:
    """The forms this URL's view answers, as each allowed role sees them: those on its own
    page, and those on it that post to a view with no page of its own (reveals, status
    buttons). Forms for other pages are fuzzed in those pages' tests. A view that takes only
    posts gets posts of junk."""
    found: dict[tuple, tuple[str, ParsedForm]] = {}
    has_page: dict[str, bool] = {}
    for url in concrete_urls(walked.name, walked.url, world.objects):
        for role in sorted(ROLES_OF.get(walked.name, Role.ALL)):
            client = world.client(role, login)
            response = client.get(url)
            check_response(response, f"GET {url} as {role}")
            if response.status_code in (302, 405):
                empty = ParsedForm(method="post", action=url, multipart=False)
                found.setdefault((walked.name, "post", ()), (role, empty))
            if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                continue
            for form in forms_of(response.content.decode(), url):
                target = target_name(form.action)
                if target in PUBLIC:
                    continue
                if target != walked.name:
                    if target not in has_page:
                        has_page[target] = client.get(form.action).status_code == 200
                    if has_page[target]:
                        continue
                # One of many alike forms (a form per check, per referral) is enough.
                key = (
                    target,
                    form.method,
                    tuple(sorted(re.sub(r"\d+", "N", name) for name in form.fields)),
                )
                found.setdefault(key, (role, form))
    return list(found.values())


@pytest.mark.parametrize("group", url_groups(), ids=group_id)
def test_hostile_submissions_break_no_form(world, login, group):
    """Each form and page of the group is searched on its own; all that broke are reported."""
    broken = []
    for walked in group:
        searches = []
        for role, form in _own_forms(world, login, walked):
            client = world.client(role, login)
            searches.append(lambda client=client, form=form, role=role: fuzz(client, form, role))
            searches.append(lambda client=client, form=form, role=role: sweep(client, form, role))
            searches.append(
                lambda client=client, form=form, role=role, walked=walked: store_script(
                    world, client, form, role, walked
                )
            )
        searches.append(lambda walked=walked: query_fuzz(world, login, walked))
        for search in searches:
            try:
                search()
            except AssertionError as failure:
                broken.append(describe(failure))
    assert broken == [], "\n\n".join(broken)


def describe(failure: AssertionError) -> str:
    """What broke, with the shrunk example and Hypothesis's notes on how to replay it."""
    return "\n".join([str(failure).split("\n")[0], *getattr(failure, "__notes__", [])])


def fuzz(client, form: ParsedForm, role: str) -> None:
    strategy = query_strings(form) if form.method == "get" else submissions(form)

    @HOSTILE
    @given(data=strategy)
    def submit(data):
        what = f"{form.method.upper()} {form.action} as {role} with {data!r}"
        in_savepoint(lambda: submit_and_check(client, form, data, what))

    submit()


def sweep(client, form: ParsedForm, role: str) -> None:
    """The same few nasty values every run, in every field at once (see strategies.SWEEPS)."""
    for values in SWEEPS:
        data = sweep_submission(form, values)
        what = f"{form.method.upper()} {form.action} as {role} with {data!r}"
        in_savepoint(lambda data=data, what=what: submit_and_check(client, form, data, what))


def script_submission(form: ParsedForm, payload: str) -> dict[str, str]:
    """A post that should be accepted, with markup in every free-text field."""
    data = {}
    for name, field in form.fields.items():
        if field.kind in ("select", "radio", "submit"):
            options = [option for option in field.options if option]
            value = field.value or (options[0] if options else "")
        elif field.kind == "checkbox":
            value = field.options[0] if field.options else "on"
        elif field.kind == "date":
            value = datetime.date.today().isoformat()
        elif field.kind == "number":
            value = field.value or "1"
        elif field.kind == "hidden":
            value = field.value
        elif field.kind in ("text", "textarea", "search", "email", "tel", "url"):
            value = payload
        else:
            continue
        data[name] = value
    return data


def store_script(world, client, form: ParsedForm, role: str, walked: WalkedURL) -> None:
    """Markup posted into every text field is, once stored, shown escaped on the page that
    answered, the page it led to and the page the form is on."""
    if form.method != "post" or not any(
        field.kind in ("text", "textarea") for field in form.fields.values()
    ):
        return
    data = script_submission(form, SCRIPT_PAYLOADS[0])
    what = f"POST {form.action} as {role} with {data!r}"

    def attempt():
        if submit_and_check(client, form, data, what):
            for url in concrete_urls(walked.name, walked.url, world.objects):
                check_response(client.get(url), f"{what}, then GET {url}")

    in_savepoint(attempt)


def query_fuzz(world, login, walked: WalkedURL) -> None:
    """Paging, filters and parameters no view expects, on every page."""
    url = concrete_urls(walked.name, walked.url, world.objects)[0]
    role = sorted(ROLES_OF.get(walked.name, Role.ALL))[0]
    client = world.client(role, login)
    form = ParsedForm(method="get", action=url, multipart=False)
    path, _separator, query = url.partition("?")
    if query:  # the page's own parameters (?case=...) get the nasty values of the sweep
        own = ParsedForm(method="get", action=path, multipart=False)
        for name, value in parse_qsl(query):
            own.add(FormField(name=name, kind="hidden", value=value))
        sweep(client, own, role)

    @HOSTILE_PAGES
    @given(data=query_strings())
    def request(data):
        in_savepoint(lambda: submit_and_check(client, form, data, f"GET {url} with {data!r}"))

    request()
