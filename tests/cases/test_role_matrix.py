"""Who may open which case page: one table, role × URL name, for every URL of the cases
namespace. A new case URL fails `test_every_case_url_is_in_the_matrix` until someone decides
who may open it."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse

from accounts.roles import Role
from cases import services
from cases.models import ErasureRequest
from tests.factories import CaseFactory
from tests.url_walker import walk

pytestmark = pytest.mark.django_db

INTAKE = Role.INTAKE_OFFICER
VERIFIER = Role.VERIFIER
MANAGER = Role.CASE_MANAGER
HOUSING = Role.HOUSING_COORDINATOR
FINANCE = Role.FINANCE_OFFICER
APPROVER = Role.FINANCE_APPROVER
AUDITOR = Role.AUDITOR
ADMINISTRATOR = Role.ADMINISTRATOR

CASE_READERS = {INTAKE, VERIFIER, MANAGER, AUDITOR}
REVEALERS = {INTAKE, VERIFIER, MANAGER}
# Erasure: case managers and administrators ask and approve; auditors read the requests.
ERASURE_DECIDERS = {MANAGER, ADMINISTRATOR}
ERASURE_READERS = ERASURE_DECIDERS | {AUDITOR}

# URL name -> the roles that may open it; every other role gets 403.
ALLOWED: dict[str, set[str]] = {
    "cases:list": CASE_READERS,
    "cases:detail": CASE_READERS,
    "cases:identity": CASE_READERS,
    "cases:family": CASE_READERS,
    "cases:items": CASE_READERS,
    "cases:checks": CASE_READERS,
    "cases:evidence": CASE_READERS,
    "cases:journey": CASE_READERS,
    "cases:referrals": CASE_READERS,
    "cases:notes": CASE_READERS,
    "cases:history": CASE_READERS,
    "cases:team": CASE_READERS,
    "cases:break_glass": REVEALERS,
    "cases:break_glass_list": {MANAGER, ADMINISTRATOR},
    "cases:intake": {INTAKE},
    "cases:intake_family": {INTAKE, MANAGER},
    "cases:intake_items": {INTAKE, MANAGER},
    "cases:intake_review": {INTAKE, MANAGER},
    "cases:edit": {INTAKE, MANAGER},
    "cases:reveal": REVEALERS,
    "cases:family_reveal": REVEALERS,
    "cases:evidence_download": REVEALERS,
    "cases:verify": {VERIFIER},
    "cases:assign_verifier": {MANAGER},
    "cases:decide": {MANAGER},
    "cases:withdraw": {INTAKE, MANAGER},
    "cases:reopen": {MANAGER},
    "cases:safety_plan": {MANAGER},
    "cases:duplicates": {MANAGER},
    "cases:partners": {MANAGER},
    "cases:reports": {INTAKE, VERIFIER, MANAGER, AUDITOR, ADMINISTRATOR},
    "cases:reports_export": {MANAGER, AUDITOR},
    "cases:erasure_create": ERASURE_DECIDERS,
    "cases:erasure_list": ERASURE_READERS,
    "cases:erasure_detail": ERASURE_READERS,
    "cases:erasure_approve": ERASURE_DECIDERS,
    "cases:erasure_reject": ERASURE_DECIDERS,
    "cases:erasure_cancel": ERASURE_DECIDERS,
}

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def case_urls():
    return {walked.name: walked.url for walked in walk() if walked.name.startswith("cases:")}


def test_every_case_url_is_in_the_matrix():
    names = set(case_urls())
    assert names - set(ALLOWED) == set(), "decide who may open these case URLs"
    assert set(ALLOWED) - names == set(), "these URLs no longer exist: remove them"


# Views that only take a POST (an export, started in the background): the matrix posts to them.
POST_ONLY = {"cases:reports_export"}


@pytest.fixture
def objects(make_staff, settings, tmp_path):
    """A case with one of everything an object URL can point at."""
    settings.MEDIA_ROOT = tmp_path
    manager = make_staff(MANAGER)
    case = CaseFactory()
    member = services.family_member_add(
        case=case, actor=manager, name="Ma Nandar Hla", relation="spouse", age=31
    )
    evidence = services.evidence_add(
        case=case,
        actor=manager,
        kind="photo",
        upload=SimpleUploadedFile("photo.png", PNG, content_type="image/png"),
    )
    erasure = ErasureRequest.objects.create(
        case=case, reason="person_request", requested_by=manager
    )
    return {
        "pk": case.pk,
        "member_pk": member.pk,
        "evidence_pk": evidence.pk,
        "request_pk": erasure.pk,
        "field": "name",
    }


def concrete_url(name: str, sample: str, objects: dict) -> str:
    kwargs = {
        key: objects.get(key, value) for key, value in resolve(sample.split("?")[0]).kwargs.items()
    }
    if name == "cases:reveal":
        kwargs["field"] = "real_name"
    return reverse(name, kwargs=kwargs)


def assert_no_inline_code(html: str, url: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {url}"
    assert " style=" not in html and "<style" not in html, f"inline style on {url}"


@pytest.mark.parametrize("role", Role.ALL)
def test_role_matrix(login, make_staff, objects, role):
    client = login(make_staff(role, is_staff=role == ADMINISTRATOR))
    wrong = []
    for name, sample in sorted(case_urls().items()):
        url = concrete_url(name, sample, objects)
        response = client.post(url) if name in POST_ONLY else client.get(url)
        allowed = role in ALLOWED[name]
        if allowed:
            location = response.get("Location", "")
            if response.status_code == 200:
                if response["Content-Type"].startswith("text/html"):
                    assert_no_inline_code(response.content.decode(), url)
            elif response.status_code != 302 or location.startswith("/accounts/login/"):
                wrong.append(f"{name}: expected allowed, got {response.status_code} {location}")
        elif response.status_code != 403:
            wrong.append(f"{name}: expected 403, got {response.status_code}")
    assert wrong == [], f"{role}: " + "; ".join(wrong)
