"""Periodic tasks made in the admin: only the tasks the apps allow, with only the arguments each
accepts; a monthly run cannot be scheduled under a finance officer's name."""

from __future__ import annotations

import json

import pytest
from django.contrib import admin
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from accounts.roles import Role
from operations.admin import PeriodicTaskForm

pytestmark = pytest.mark.django_db


def form(**fields) -> PeriodicTaskForm:
    crontab = CrontabSchedule.objects.create(minute="0", hour="5")
    data = {
        "name": "A schedule",
        "task": "payments.run_monthly_disbursement",
        "enabled": "on",
        "crontab": crontab.pk,
        "args": "[]",
        "kwargs": "{}",
        "headers": "{}",
        "priority": "",
        **fields,
    }
    return PeriodicTaskForm(data=data)


def test_the_admin_uses_the_checked_form():
    assert isinstance(admin.site._registry[PeriodicTask].form(), PeriodicTaskForm)


def test_a_monthly_run_for_a_month_may_be_scheduled():
    checked = form(kwargs=json.dumps({"period": "2026-11"}))
    assert checked.is_valid(), checked.errors
    assert {choice for choice, _label in checked.fields["regtask"].choices} >= {
        "payments.run_monthly_disbursement",
        "accounts.backup_nightly",
        "notifications.watchdog",
    }


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kwargs": json.dumps({"actor_id": 7})}, "kwargs", "takes no argument actor_id"),
        ({"kwargs": json.dumps({"period": "2026-13"})}, "kwargs", "is not valid"),
        ({"kwargs": "[1]"}, "kwargs", "JSON object"),
        ({"args": "[7]"}, "args", "no positional arguments"),
        ({"task": "accounts.ping"}, "task", "cannot be scheduled"),
        ({"task": "celery.backend_cleanup"}, "task", "cannot be scheduled"),
        ({"queue": "elsewhere"}, "queue", "one queue"),
        ({"headers": json.dumps({"id": "x"})}, "headers", "headers empty"),
    ],
)
def test_a_schedule_outside_what_the_apps_allow_is_refused(fields, field, message):
    checked = form(**fields)
    assert not checked.is_valid()
    assert message in " ".join(checked.errors[field])


def test_an_administrator_cannot_save_a_run_that_names_an_actor_in_the_admin(login, make_staff):
    administrator = make_staff(Role.ADMINISTRATOR, is_staff=True)
    crontab = CrontabSchedule.objects.create(minute="0", hour="5")
    before = PeriodicTask.objects.count()
    response = login(administrator).post(
        "/admin/django_celery_beat/periodictask/add/",
        {
            "name": "Pay as someone",
            "regtask": "payments.run_monthly_disbursement",
            "enabled": "on",
            "crontab": crontab.pk,
            "args": "[]",
            "kwargs": json.dumps({"actor_id": administrator.pk}),
            "headers": "{}",
            "priority": "",
            "expire_seconds": "",
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert "takes no argument actor_id" in response.content.decode()
    assert PeriodicTask.objects.count() == before
