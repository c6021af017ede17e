"""Admin of the access log (read-only) and of the change history (never printing ciphertext)."""

import pghistory.admin as pghistory_admin
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.history import describe_changes, format_history_value
from audit.models import AccessLog
from protection.admin import ReadOnlyAdmin


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "action", "target_label", "field", "ip_address"]
    list_filter = ["action"]
    search_fields = ["username", "target_label"]
    date_hierarchy = "at"


class HistoryEventsAdmin(pghistory_admin.EventsAdmin):
    """pghistory's events admin, showing changes as the audit trail does: never ciphertext, and
    the details a model keeps coarse (a case's township, rank, unit) coarsened."""

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # No filter on what a record held or who did what (?pgh_data__unit_type=signals): a
        # list that answers a guess is a way to read a detail kept from the reader.
        if lookup.split("__", 1)[0] in ("pgh_data", "pgh_diff", "pgh_context"):
            return False
        return super().lookup_allowed(lookup, value, request)

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
        model = event.pgh_obj_model
        return "; ".join(
            f"{field}: {format_history_value(model, field, before) or '—'} → "
            f"{format_history_value(model, field, after) or '—'}"
            for field, before, after in describe_changes(event.pgh_diff)
        )
