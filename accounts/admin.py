"""Admin for staff, and the admin site's own login (the staff login, with its second factor)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@login_not_required
def _admin_login(request: HttpRequest, extra_context=None) -> HttpResponseRedirect:
    """The admin has no login of its own: everyone logs in with the second factor."""
    target = reverse("accounts:login")
    next_url = request.GET.get("next")
    return HttpResponseRedirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)


admin.site.login = _admin_login
admin.site.site_header = _("Haven administration")
admin.site.site_title = _("Haven administration")


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
