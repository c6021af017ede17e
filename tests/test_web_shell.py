"""The web shell: security headers, pages that obey the Content-Security-Policy, error pages
that leak nothing, and the health check."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.test import Client, override_settings
from django.urls import include, path
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from accounts.roles import Role
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_security_headers_on_every_page(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("url", ["/accounts/login/", "/", "/accounts/staff/", "/accounts/audit/"])
def test_pages_use_only_files_from_our_own_origin(login, administrator, url):
    """Nothing inline that a strict CSP would block, and nothing from a CDN."""
    client = Client() if url == "/accounts/login/" else login(administrator)
    html = client.get(url).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert " style=" not in html and "<style" not in html, "inline style"
    assert not re.search(r"""(src|href)=["']https?://""", html), "third-party asset"
    assert "css/haven.css" in html


def test_our_stylesheet_brings_bootstrap_in_before_overriding_it():
    """One stylesheet, applied whole: Bootstrap alone would load icons that the CSP blocks."""
    stylesheet = finders.find("css/haven.css")
    with open(stylesheet, encoding="utf-8") as file:
        rules = re.sub(r"/\*.*?\*/", "", file.read(), flags=re.S).strip()
    assert rules.startswith('@import url("../bootstrap/css/bootstrap.min.css");')
    assert finders.find("bootstrap/css/bootstrap.min.css")


def test_navigation_follows_the_role(login, make_staff, auditor):
    auditor_page = login(auditor).get("/").content.decode()
    assert "/accounts/audit/" in auditor_page
    assert "/accounts/staff/" not in auditor_page
    intake_page = login(make_staff(Role.INTAKE_OFFICER)).get("/").content.decode()
    assert "/accounts/audit/" not in intake_page


def test_the_kept_menu_follows_a_role_taken_away_the_page_and_the_language(login, make_staff):
    def menu(client, path="/"):
        html = client.get(path).content.decode()
        return html.split('<ul class="navbar-nav me-auto">', 1)[1].split("/i18n/setlang/", 1)[0]

    auditor = make_staff(Role.AUDITOR, Role.CASE_MANAGER, is_staff=True)
    client = login(auditor)
    assert '"/accounts/audit/"' in menu(client) and "Administration" in menu(client)
    # The page shown is the one marked, whichever page asked for the kept menu first.
    assert 'active" href="/cases/"\n' in menu(client, "/cases/").replace("\n       ", "\n")
    assert 'aria-current="page"' not in menu(client, f"/cases/{CaseFactory().pk}/")
    auditor.groups.remove(Group.objects.get(name=Role.AUDITOR))
    type(auditor).objects.filter(pk=auditor.pk).update(is_staff=False)
    assert '"/accounts/audit/"' not in menu(client) and "Administration" not in menu(client)
    burmese = login(make_staff(Role.CASE_MANAGER, preferred_language="my"))
    with translation.override("my"):
        assert translation.gettext("Possible duplicates") in menu(burmese)
    assert "Possible duplicates" not in menu(burmese)


def _boom(request):
    raise RuntimeError("database password is hunter2 and the case is Thura Aung")


urlpatterns = [path("boom/", _boom), path("", include("config.urls"))]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_server_error_page_leaks_nothing(login, administrator):
    client = login(administrator)
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "hunter2" not in body and "Thura" not in body and "Traceback" not in body


def test_not_found_page_leaks_nothing(login, administrator):
    response = login(administrator).get("/no-such-page/HV-2026-00001/")
    assert response.status_code == 404
    assert b"HV-2026-00001" not in response.content
    assert b"Not found" in response.content


def test_the_icon_is_named_on_error_pages_and_found_where_browsers_guess(login, make_staff):
    # A page that names no icon (the admin, a refusal) makes a browser ask for /favicon.ico; that
    # must not be a 404 in the log, for a visitor signed in or not.
    refused = login(make_staff(Role.VERIFIER)).get("/payments/")
    assert refused.status_code == 403
    icon = re.search(r'<link rel="icon" href="([^"]+)"', refused.content.decode())
    assert icon is not None and finders.find(icon.group(1).removeprefix("/static/"))
    for client in (Client(), login(make_staff(Role.VERIFIER))):
        guessed = client.get("/favicon.ico")
        assert guessed.status_code == 302 and guessed["Location"] == icon.group(1)


def test_health_check_reports_database_and_redis():
    PeriodicTask.objects.update(last_run_at=timezone.now())
    response = Client().get("/healthz")
    assert response.status_code == 200
    answer = response.json()
    assert {key: answer[key] for key in ("status", "database", "redis")} == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
    }
    assert answer["scheduled_tasks"]["notifications.watchdog"]["late"] is False


def test_health_check_reports_redis_down_without_details(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = Client().get("/healthz")
    assert response.status_code == 503
    answer = response.json()
    assert {key: answer[key] for key in ("status", "database", "redis")} == {
        "status": "unavailable",
        "database": "ok",
        "redis": "unavailable",
    }


def test_log_lines_of_a_request_carry_its_request_id(client, caplog):
    import logging

    from protection.logs import RedactProtectedValuesFilter

    with caplog.at_level(logging.WARNING, logger="django.request"):
        caplog.handler.addFilter(RedactProtectedValuesFilter())
        response = client.get("/healthz/nothing-here")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert any(getattr(record, "request_id", "") == request_id for record in caplog.records)
