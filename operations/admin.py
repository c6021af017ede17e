"""Admin of Celery beat's schedules: crontabs checked as Celery reads them, and periodic tasks
limited to the tasks and arguments the apps allow (operations/schedules.py)."""

import json

import django_celery_beat.admin as celery_beat_admin
from celery.schedules import ParseException, crontab
from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from operations.schedules import schedulable_tasks

# --- Celery beat's crontab schedules ----------------------------------------------------------


class CrontabScheduleForm(forms.ModelForm):
    """Each part of a schedule is read as Celery will read it, so a value Celery refuses
    ("-1", "13" as a month) is a form error, not an error page (the admin's summary of the
    schedule parses the values it is shown)."""

    class Meta:
        model = CrontabSchedule
        fields = "__all__"  # noqa: DJ007  (the package's own admin shows every field)

    def clean(self) -> dict:
        data = super().clean()
        for name in ("minute", "hour", "day_of_week", "day_of_month", "month_of_year"):
            if name in data:
                try:
                    crontab(**{name: data[name]})
                except (ValueError, ParseException):
                    self.add_error(name, _("Celery cannot read this value."))
        return data


admin.site.unregister(CrontabSchedule)


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(celery_beat_admin.CrontabScheduleAdmin):
    form = CrontabScheduleForm


# --- periodic tasks ----------------------------------------------------------------------------


class PeriodicTaskForm(celery_beat_admin.PeriodicTaskForm):
    """Only the tasks the apps allow, with only the keyword arguments each accepts, checked;
    no positional arguments, headers or routing (Haven's workers listen to one queue)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        allowed = sorted(schedulable_tasks())
        self.fields["regtask"] = forms.ChoiceField(
            label=_("Task"), required=False, choices=[("", "---------")] + [(n, n) for n in allowed]
        )

    def clean(self) -> dict:
        data = super().clean()
        task = data.get("task") or ""
        checks = schedulable_tasks().get(task)
        if checks is None:
            self.add_error("task", _("This task cannot be scheduled from the admin."))
            return data
        for name in ("queue", "exchange", "routing_key"):
            if data.get(name):
                self.add_error(name, _("Leave this empty: Haven's workers listen to one queue."))
        if self._json(data, "args", []) not in ([], None):
            self.add_error("args", _("This task takes no positional arguments."))
        if self._json(data, "headers", {}) not in ({}, None):
            self.add_error("headers", _("Leave the headers empty."))
        arguments = self._json(data, "kwargs", {})
        if not isinstance(arguments, dict):
            self.add_error("kwargs", _("Give the keyword arguments as a JSON object."))
            return data
        for name, value in arguments.items():
            if name not in checks:
                self.add_error(
                    "kwargs",
                    _("%(task)s takes no argument %(name)s.") % {"task": task, "name": name[:50]},
                )
            elif not checks[name](value):
                self.add_error("kwargs", _("The value of %(name)s is not valid.") % {"name": name})
        return data

    @staticmethod
    def _json(data: dict, name: str, default):
        """The field's JSON, `default` when empty, None when unreadable (the package's own
        check reports that)."""
        try:
            return json.loads(data[name]) if data.get(name) else default
        except ValueError:
            return None


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(celery_beat_admin.PeriodicTaskAdmin):
    form = PeriodicTaskForm
