"""Admin of the administrators' floor per alert kind; notifications and deliveries read-only,
targets without their URL."""

from django.contrib import admin

from notifications.models import AlertTarget, Delivery, KindSetting, Notification
from protection.admin import ReadOnlyAdmin


@admin.register(KindSetting)
class KindSettingAdmin(admin.ModelAdmin):
    list_display = ["kind", "always_out_of_band", "changed_at"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "kind", "severity", "read_at"]
    list_filter = ["severity", "kind"]
    fields = ["created_at", "recipient", "kind", "severity", "link", "read_at"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "notification", "status", "attempts", "last_error"]
    list_filter = ["status"]
    fields = ["notification", "status", "attempts", "last_error", "last_attempt_at", "sent_at"]


@admin.register(AlertTarget)
class AlertTargetAdmin(ReadOnlyAdmin):
    list_display = ["owner", "label", "display", "active", "last_test_ok"]
    # Never the URL: it carries the owner's secrets.
    fields = ["owner", "label", "display", "min_severity", "active", "last_test_ok", "last_error"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("url")
