"""Admin of Celery beat's crontab schedules, checked as Celery reads them."""

import django_celery_beat.admin as celery_beat_admin
from celery.schedules import ParseException, crontab
from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import CrontabSchedule

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
