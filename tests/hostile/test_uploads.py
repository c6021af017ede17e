"""Evidence uploads with hostile names and contents: refused cleanly (a message, no row, no
file left behind) or stored safely, and never served back in a way a browser would run."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.roles import Role
from cases.models import Evidence
from tests.factories import CaseFactory, add_to_team
from tests.hostile.conftest import HOSTILE, check_response, in_savepoint
from tests.hostile.strategies import NASTY_TEXT, SCRIPT_PAYLOADS

pytestmark = pytest.mark.django_db

LIMIT = 4096
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
POLYGLOT = PDF + b"<html><body><script>alert('hv-xss')</script></body></html>"

ACCEPTED = {"png": PNG, "jpeg": JPEG, "pdf": PDF, "pdf-html-polyglot": POLYGLOT}
REFUSED = {
    "empty": b"",
    "html": b"<!doctype html><script>alert('hv-xss')</script>",
    "svg": b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    "windows-exe": b"MZ\x90\x00" + b"\x00" * 60,
    "gif": b"GIF89a" + b"\x00" * 20,
    "pdf-signature-late": b" %PDF-1.7",
    "png-truncated-signature": b"\x89PNG\r\n",
    "too-large": PNG + b"\x00" * LIMIT,
}

FILE_NAMES = (
    "scan.png",
    "a\x00b.png",
    "../../../etc/passwd",
    "..\\..\\boot.ini",
    "C:\\Users\\x\\scan.pdf",
    "\u202egpj.exe",
    "ဗိုလ်မှူး.pdf",
    "😀.png",
    "x" * 1000 + ".png",
    ".htaccess",
    "",
    *SCRIPT_PAYLOADS,
)


@pytest.fixture
def evidence_page(make_staff, login, settings, tmp_path):
    settings.HAVEN_EVIDENCE_MAX_BYTES = LIMIT
    settings.MEDIA_ROOT = tmp_path
    manager = make_staff(Role.CASE_MANAGER)
    case = add_to_team(CaseFactory(), manager)
    client = login(manager, Client(raise_request_exception=False))
    return client, case, reverse("cases:evidence", args=[case.pk])


def stored_files(settings) -> set[Path]:
    folder = Path(settings.MEDIA_ROOT) / "evidence"
    return set(folder.iterdir()) if folder.exists() else set()


def upload(client, url: str, name: str, content: bytes, kind: str = "photo"):
    file = SimpleUploadedFile(name, content, content_type="image/png")
    return client.post(url, {"kind": kind, "file": file})


def assert_served_safely(client, case, evidence: Evidence, content: bytes) -> None:
    response = client.get(reverse("cases:evidence_download", args=[case.pk, evidence.pk]))
    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Type"] in ("application/pdf", "image/jpeg", "image/png")
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="{case.code}-evidence-{evidence.pk}.' + (
        {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[
            response["Content-Type"]
        ]
        + '"'
    ), disposition


@pytest.mark.parametrize("kind", sorted(ACCEPTED))
def test_files_of_the_three_kinds_are_stored_and_served_as_attachments(
    evidence_page, settings, kind
):
    client, case, url = evidence_page
    content = ACCEPTED[kind]
    response = upload(client, url, "scan.bin", content)
    assert response.status_code == 302
    evidence = Evidence.objects.filter(case=case).latest("pk")
    assert_served_safely(client, case, evidence, content)


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_other_files_are_refused_with_a_message_and_leave_nothing_behind(
    evidence_page, settings, kind
):
    client, _case, url = evidence_page
    rows, files = Evidence.objects.count(), stored_files(settings)
    response = upload(client, url, "scan.png", REFUSED[kind])
    check_response(response, f"upload of {kind}")
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert Evidence.objects.count() == rows
    assert stored_files(settings) == files


def test_hostile_file_names_are_stored_without_paths_or_control_characters(evidence_page, settings):
    client, case, url = evidence_page

    @HOSTILE
    @given(
        name=st.one_of(
            st.sampled_from(FILE_NAMES),
            st.lists(st.sampled_from(NASTY_TEXT), min_size=1, max_size=3).map("".join),
        ),
        content=st.sampled_from(sorted(ACCEPTED.values())),
    )
    def store(name, content):
        def attempt():
            response = upload(client, url, name, content)
            check_response(response, f"upload named {name!r}")
            assert response.status_code == 302, f"upload named {name!r}: {response.status_code}"
            evidence = Evidence.objects.filter(case=case).latest("pk")
            assert "\x00" not in evidence.original_name
            assert "/" not in evidence.original_name and "\\" not in evidence.original_name
            assert len(evidence.original_name) <= 255
            check_response(client.get(url), "the evidence tab")
            assert_served_safely(client, case, evidence, content)

        in_savepoint(attempt)

    store()
