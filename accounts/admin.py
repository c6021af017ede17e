"""Admin for staff, and the admin site's own login (the staff login, with its second factor).
Roles, status, permissions and passwords are read-only here for everyone: they change through
requests (accounts/staff_requests.py)."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from protection.admin import ReadOnlyAdmin


@login_not_required
def _admin_login(request: HttpRequest, extra_context=None) -> HttpResponseRedirect:
    """The admin has no login of its own: everyone logs in with the second factor."""
    target = reverse("accounts:login")
    next_url = request.GET.get("next")
    return HttpResponseRedirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)


admin.site.login = _admin_login
admin.site.site_header = _("Haven administration")
admin.site.site_title = _("Haven administration")


# What decides who may do what: changed only through requests that a second administrator
# approves (accounts/staff_requests.py), never in the admin, not even by a superuser.
LOCKED_USER_FIELDS = [
    "groups",
    "user_permissions",
    "is_active",
    "is_staff",
    "is_superuser",
    "password",
    "last_login",
    "date_joined",
]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "groups"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Preferences"), {"fields": ["preferred_language"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Accounts are made by approved requests (or, at the start, on the command line).
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Staff are deactivated, never deleted: the audit trail keeps referring to them.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [*super().get_readonly_fields(request, obj), *LOCKED_USER_FIELDS]

    def user_change_password(self, request: HttpRequest, id, form_url=""):
        # A password is reset through a request; its owner sets the new one (a one-time link).
        raise PermissionDenied

    def get_actions(self, request: HttpRequest):
        return {}


# A role's permissions come from migrations; a device added or deleted in the admin would
# reset a second factor without a request.
for model, base in (
    (Group, GroupAdmin),
    (TOTPDevice, TOTPDeviceAdmin),
    (StaticDevice, StaticDeviceAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, type(f"ReadOnly{model.__name__}Admin", (ReadOnlyAdmin, base), {}))
