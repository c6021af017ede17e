"""Revealing a protected field is allowed only with the permission, and always logged."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.template import Context, Template

from accounts.roles import Role
from accounts.services import protected_field_reveal
from audit.models import AccessLog
from tests.protected_app.models import ProtectedRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def record():
    return ProtectedRecord.objects.create(
        code="HV-2026-00042", real_name="Thura Aung", service_number="BA-1234"
    )


def test_reveal_returns_value_and_logs_who_what_without_the_value(make_staff, record):
    officer = make_staff(Role.INTAKE_OFFICER)
    fresh = ProtectedRecord.objects.get(pk=record.pk)
    assert protected_field_reveal(actor=officer, obj=fresh, field_name="real_name") == "Thura Aung"
    entry = AccessLog.objects.get(action=AccessLog.Action.REVEAL)
    assert (entry.actor, entry.field, entry.target_label) == (officer, "real_name", "HV-2026-00042")
    assert "Thura" not in str(entry.detail) and "Thura" not in entry.target_label


@pytest.mark.parametrize(
    "role", [Role.HOUSING_COORDINATOR, Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADMINISTRATOR]
)
def test_roles_without_the_permission_cannot_reveal(make_staff, record, role):
    with pytest.raises(PermissionDenied):
        protected_field_reveal(actor=make_staff(role), obj=record, field_name="real_name")
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()


def test_deactivated_staff_cannot_reveal(make_staff, record):
    officer = make_staff(Role.CASE_MANAGER, is_active=False)
    with pytest.raises(PermissionDenied):
        protected_field_reveal(actor=officer, obj=record, field_name="service_number")


def test_templates_show_masked_values(record):
    fresh = ProtectedRecord.objects.get(pk=record.pk)
    rendered = Template("{% load protection %}{{ record.real_name|masked }}").render(
        Context({"record": fresh})
    )
    assert rendered == "*****"
