"""The demo data command: one member of staff per role, idempotent, never outside the demo."""

from io import StringIO

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_PASSWORD, DEMO_STAFF, load_demo_staff
from accounts.models import User
from accounts.roles import Role, role_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_settings(settings):
    settings.HAVEN_DEMO = True
    return settings


def load_demo() -> str:
    """The staff loader alone (the whole demo organisation is tested in tests/test_demo_data.py)."""
    output = StringIO()
    load_demo_staff(output)
    return output.getvalue()


def test_every_role_has_a_demo_user_who_can_log_in(demo_settings):
    load_demo()

    for role in Role.ALL:
        members = User.objects.filter(groups__name=role)
        # Two administrators: one asks for a change to staff, the other approves it. Two case
        # managers: nobody names themselves to a case's team. Two verifiers: one outside most
        # teams (a break-the-glass, a reveal over the budget).
        paired = {Role.ADMINISTRATOR, Role.CASE_MANAGER, Role.VERIFIER}
        assert members.count() == (2 if role in paired else 1), role
        assert all(member.check_password(DEMO_PASSWORD) for member in members)


def test_only_administrator_and_auditor_reach_the_admin_site(demo_settings):
    load_demo()

    staff_roles = set(User.objects.filter(is_staff=True).values_list("groups__name", flat=True))
    assert staff_roles == {Role.ADMINISTRATOR, Role.AUDITOR}
    assert not User.objects.filter(is_superuser=True).exists()


def test_running_twice_changes_nothing(demo_settings):
    load_demo()
    first = list(User.objects.order_by("username").values("pk", "username", "password"))
    memberships = User.groups.through.objects.count()

    output = load_demo()

    assert list(User.objects.order_by("username").values("pk", "username", "password")) == first
    assert User.groups.through.objects.count() == memberships == len(DEMO_STAFF)
    assert "0 demo staff created" in output


def test_a_lost_role_is_given_back_without_touching_the_password(demo_settings):
    load_demo()
    intake = User.objects.get(username="intake")
    intake.groups.clear()
    intake.set_password("changed in the demo by a curious user")
    intake.save()

    load_demo()

    intake.refresh_from_db()
    assert role_names(User.objects.get(pk=intake.pk)) == {Role.INTAKE_OFFICER}
    assert intake.check_password("changed in the demo by a curious user")


def test_refuses_to_run_outside_the_demo_settings(settings):
    settings.HAVEN_DEMO = False

    with pytest.raises(CommandError, match="demo settings"):
        call_command("load_demo", stdout=StringIO())

    assert not User.objects.exists()


def test_demo_password_passes_the_password_validators(demo_settings):
    load_demo()

    for user in User.objects.all():
        validate_password(DEMO_PASSWORD, user)
