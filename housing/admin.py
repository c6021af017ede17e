"""Admin for housing: for looking things up and correcting details, never for moving people.

- A house's address, contact person and notes are encrypted. Admin users without
  `housing.reveal_address` see them masked and read-only (never in clear, never as
  ciphertext); with it they see and edit them, and each viewing is written to the access log.
- A house's status changes only through the house pages (services.house_mark_compromised and
  services.house_set_status); here it is read-only.
- Houses, rooms and beds are created and changed through housing/services/houses.py.
- Allocations are read-only: they change only through housing/services/allocations.py, which
  guards against double-booking and half-done moves.
- Nothing is deleted: the history of stays keeps referring to houses, rooms and beds.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import may_reveal
from audit.models import AccessLog
from audit.services import log_access
from housing.models import Allocation, Bed, House, Room
from housing.services import HousingError, houses
from protection.admin import ReadOnlyAdmin

REVEAL_PERMISSION = "housing.reveal_address"
PROTECTED_FIELDS = ("address", "contact_person", "notes")
MASKED_SUFFIX = "_masked"
MASK = "*****"


def _masked_display(name: str, label: Any):
    """A read-only admin method that says whether a protected value is there, without
    decrypting it: "*****", or a dash when empty."""

    def display(model_admin: admin.ModelAdmin, obj: models.Model) -> str:
        if obj is None or obj.pk is None:
            return ""
        value = obj.__dict__.get(name)
        return MASK if value not in (None, "") else "—"

    display.__name__ = name + MASKED_SUFFIX
    display.short_description = label
    return display


class NoDeleteAdmin(admin.ModelAdmin):
    list_per_page = 50

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except HousingError as error:
            # A refusal the form could not foresee (e.g. a concurrent change): a message.
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(House)
class HouseAdmin(NoDeleteAdmin):
    list_display = ["code_name", "town", "country", "status", "status_changed_at"]
    list_filter = ["status", "country", "town"]
    search_fields = ["code_name", "town"]
    clear_fields = ["code_name", "town", "country"]
    status_fields = [
        "status",
        "status_reason",
        "status_changed_at",
        "status_changed_by",
        "created_at",
    ]

    address_masked = _masked_display("address", gettext_lazy("address"))
    contact_person_masked = _masked_display("contact_person", gettext_lazy("contact person"))
    notes_masked = _masked_display("notes", gettext_lazy("notes"))

    def may_reveal(self, request: HttpRequest) -> bool:
        return may_reveal(request.user, REVEAL_PERMISSION)

    def get_fields(self, request: HttpRequest, obj: House | None = None) -> list[str]:
        if obj is None:
            # A new house: nothing stored yet, so nothing to reveal.
            return [*self.clear_fields, *PROTECTED_FIELDS]
        if self.may_reveal(request):
            protected = list(PROTECTED_FIELDS)
        else:
            protected = [name + MASKED_SUFFIX for name in PROTECTED_FIELDS]
        return [*self.clear_fields, *protected, *self.status_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: House | None = None) -> list[str]:
        return [*self.status_fields, *(name + MASKED_SUFFIX for name in PROTECTED_FIELDS)]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # No filtering on an encrypted field through the URL.
        if lookup.split("__", 1)[0] in PROTECTED_FIELDS:
            return False
        return super().lookup_allowed(lookup, value, request)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict,
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: House | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk and self.may_reveal(request):
            # The form shows the protected values in clear to this user: that is a reveal.
            log_access(
                action=AccessLog.Action.REVEAL,
                actor=request.user,
                request=request,
                target=obj,
                field="address",
                detail={"via": "admin", "fields": list(PROTECTED_FIELDS)},
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request: HttpRequest, obj: House, form, change: bool) -> None:
        if change:
            changes = {
                name: form.cleaned_data[name] or ""
                for name in form.changed_data
                if name in houses.HOUSE_EDITABLE_FIELDS
            }
            if changes:
                houses.house_update(house=obj, actor=request.user, **changes)
            return
        created = houses.house_create(
            actor=request.user,
            **{name: form.cleaned_data.get(name) or "" for name in houses.HOUSE_EDITABLE_FIELDS},
        )
        obj.pk, obj.data_key_id = created.pk, created.data_key_id


@admin.register(Room)
class RoomAdmin(NoDeleteAdmin):
    list_display = ["name", "house", "town"]
    list_filter = ["house__town", "house__status"]
    search_fields = ["name", "house__code_name", "house__town"]
    list_select_related = ["house"]
    fields = ["house", "name"]

    @admin.display(description=gettext_lazy("town"), ordering="house__town")
    def town(self, obj: Room) -> str:
        return obj.house.town

    def has_change_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        # Rooms are added here; a room is not renamed or moved to another house.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Room, form, change: bool) -> None:
        created = houses.room_create(
            house=form.cleaned_data["house"], actor=request.user, name=form.cleaned_data["name"]
        )
        obj.pk = created.pk


@admin.register(Bed)
class BedAdmin(NoDeleteAdmin):
    list_display = ["label", "room_name", "house_code", "town", "active"]
    list_filter = ["active", "room__house__town", "room__house__status"]
    search_fields = ["label", "room__name", "room__house__code_name", "room__house__town"]
    list_select_related = ["room__house"]

    @admin.display(description=gettext_lazy("room"), ordering="room__name")
    def room_name(self, obj: Bed) -> str:
        return obj.room.name

    @admin.display(description=gettext_lazy("house"), ordering="room__house__code_name")
    def house_code(self, obj: Bed) -> str:
        return obj.room.house.code_name

    @admin.display(description=gettext_lazy("town"), ordering="room__house__town")
    def town(self, obj: Bed) -> str:
        return obj.room.house.town

    def get_fields(self, request: HttpRequest, obj: Bed | None = None) -> list[str]:
        return ["room", "label"] if obj is None else ["room", "label", "active"]

    def get_readonly_fields(self, request: HttpRequest, obj: Bed | None = None) -> list[str]:
        # An existing bed is only taken out of use or put back.
        return [] if obj is None else ["room", "label"]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "room":
            kwargs["queryset"] = Room.objects.select_related("house")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Bed, form, change: bool) -> None:
        if change:
            if "active" in form.changed_data:
                houses.bed_set_active(
                    bed=obj, actor=request.user, active=form.cleaned_data["active"]
                )
            return
        created = houses.bed_create(
            room=form.cleaned_data["room"], actor=request.user, label=form.cleaned_data["label"]
        )
        obj.pk = created.pk


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    """Stays, to look up: allocations change only through the housing pages."""

    list_display = [
        "occupant",
        "house_code",
        "bed_label",
        "stay",
        "checked_in_by",
        "checked_out_by",
    ]
    list_filter = ["bed__room__house__town", "bed__room__house__status"]
    search_fields = ["case__code", "bed__room__house__code_name", "bed__room__house__town"]
    list_select_related = ["case", "bed__room__house", "checked_in_by", "checked_out_by"]
    list_per_page = 50
    fields = [
        "occupant",
        "house_code",
        "bed_label",
        "stay",
        "checked_in_by",
        "checked_out_by",
        "checked_out_at",
        # The reasons (encrypted under the case's key) are shown on the housing pages only:
        # the admin is open to auditors, who see no identities.
        "cancelled_at",
        "cancelled_by",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("person"), ordering="case__code")
    def occupant(self, obj: Allocation) -> str:
        return obj.occupant_label

    @admin.display(description=gettext_lazy("house"), ordering="bed__room__house__code_name")
    def house_code(self, obj: Allocation) -> str:
        return obj.bed.room.house.code_name

    @admin.display(description=gettext_lazy("room / bed"))
    def bed_label(self, obj: Allocation) -> str:
        return f"{obj.bed.room.name} / {obj.bed.label}"

    @admin.display(description=gettext_lazy("stay"), ordering="stay")
    def stay(self, obj: Allocation) -> str:
        lower, upper = (
            timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else None
            for moment in (obj.stay.lower, obj.stay.upper)
        )
        if upper is None:
            text = _("from %(start)s, open") % {"start": lower}
        else:
            text = _("%(start)s to %(end)s") % {"start": lower, "end": upper}
        if obj.cancelled_at is not None:
            return _("%(stay)s (cancelled)") % {"stay": text}
        return text
