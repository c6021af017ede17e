"""Every view needs a logged-in user with a verified second factor, except the few that cannot."""

from __future__ import annotations

import pytest
from django.urls import resolve

from tests.url_walker import walk

# The only views an anonymous visitor may reach.
PUBLIC_VIEWS = {
    "accounts:login",
    "admin:login",  # redirects to accounts:login
    "healthz",
    "favicon",  # a redirect to the static icon
    "set_language",
    "accounts:setup_password",  # a one-time link to set one's own password (410 once unusable)
}
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")
PRE_SECOND_FACTOR_VIEWS = {"accounts:otp_verify", "accounts:otp_enrol", "accounts:logout"}


def all_urls():
    return list(walk())


def test_walker_reaches_views_of_every_kind():
    names = {walked.name for walked in all_urls()}
    assert {"accounts:login", "accounts:staff_list", "admin:index", "healthz"} <= names
    assert any(name.startswith("admin:accounts_user") for name in names)


@pytest.mark.django_db
@pytest.mark.parametrize("walked", all_urls(), ids=lambda walked: walked.url)
def test_anonymous_visitor_is_sent_to_login(client, walked):
    assert resolve(walked.url.split("?")[0]) is not None, "walker made a URL that does not resolve"
    response = client.get(walked.url)
    if walked.name in PUBLIC_VIEWS:
        assert response.status_code in (200, 302, 405, 410)
        return
    if response.status_code in (301, 302):
        assert response["Location"].startswith(LOGIN_PATHS), response["Location"]
    else:
        assert response.status_code in (401, 403, 404, 405)


@pytest.mark.django_db
@pytest.mark.parametrize("walked", all_urls(), ids=lambda walked: walked.url)
def test_user_without_second_factor_reaches_only_enrolment(client, make_staff, walked, settings):
    settings.HAVEN_REQUIRE_2FA = True
    user = make_staff("Administrator", is_staff=True)
    client.force_login(user)
    response = client.get(walked.url)
    if walked.name in PUBLIC_VIEWS | PRE_SECOND_FACTOR_VIEWS:
        return
    assert response.status_code == 302, f"{walked.url} answered {response.status_code}"
    assert response["Location"].startswith("/accounts/2fa/enrol/")
