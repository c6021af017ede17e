"""Admin of data keys (metadata only, never the key), and the base of every read-only admin."""

from django.contrib import admin
from django.http import HttpRequest

from protection.models import DataKey


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows records without any way to add, change or delete them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(DataKey)
class DataKeyAdmin(ReadOnlyAdmin):
    list_display = ["pk", "purpose", "created_at", "destroyed_at"]
    list_filter = ["purpose"]
    fields = ["purpose", "created_at", "destroyed_at"]
