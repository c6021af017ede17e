"""Admin for staff, the access log (read-only), data keys (metadata only, never the key) and
Celery beat's crontab schedules (checked as Celery reads them)."""

import django_celery_beat.admin as celery_beat_admin
import pghistory.admin as pghistory_admin
from celery.schedules import ParseException, crontab
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import CrontabSchedule

from accounts.history import describe_changes
from accounts.models import AccessLog, DataKey, User


@login_not_required
def _admin_login(request: HttpRequest, extra_context=None) -> HttpResponseRedirect:
    """The admin has no login of its own: everyone logs in with the second factor."""
    target = reverse("accounts:login")
    next_url = request.GET.get("next")
    return HttpResponseRedirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)


admin.site.login = _admin_login
admin.site.site_header = _("Haven administration")
admin.site.site_title = _("Haven administration")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows records without any way to add, change or delete them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "groups"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Preferences"), {"fields": ["preferred_language"]}),
    ]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Staff are deactivated, never deleted: the audit trail keeps referring to them.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser can make a superuser or hand out permissions outside the roles.
            readonly += ["is_superuser", "user_permissions"]
        return readonly


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "action", "target_label", "field", "ip_address"]
    list_filter = ["action"]
    search_fields = ["username", "target_label"]
    date_hierarchy = "at"


@admin.register(DataKey)
class DataKeyAdmin(ReadOnlyAdmin):
    list_display = ["pk", "purpose", "created_at", "destroyed_at"]
    list_filter = ["purpose"]
    fields = ["purpose", "created_at", "destroyed_at"]


class HistoryEventsAdmin(pghistory_admin.EventsAdmin):
    """pghistory's events admin, showing changes without ever printing ciphertext."""

    def get_list_display(self, request: HttpRequest):
        return ["pgh_created_at", "pgh_label", "pgh_obj_model", "pgh_obj_id", "actor", "changes"]

    def get_fields(self, request: HttpRequest, obj=None):
        return ["pgh_created_at", "pgh_label", "pgh_obj_model", "pgh_obj_id", "actor", "changes"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("who"))
    def actor(self, event) -> str:
        user_id = (event.pgh_context or {}).get("user")
        return str(user_id) if user_id is not None else _("system")

    @admin.display(description=_("changes"))
    def changes(self, event) -> str:
        return "; ".join(
            f"{field}: {before or '—'} → {after or '—'}"
            for field, before, after in describe_changes(event.pgh_diff)
        )


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
