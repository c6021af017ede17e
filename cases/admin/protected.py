"""The base of the cases admin: deny by default, protected fields masked outside the case's team
(need-to-know, the reveal budget and the access log decide, once per request), the details that
narrow a person down shown coarse, and each record's change history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import may_reveal, record_reveal
from audit.history import coarsen
from audit.selectors import usernames_by_id
from cases import selectors
from cases.models import (
    Case,
)
from cases.rules import SEE_IDENTITY
from protection.blind_indexes import BlindIndexField
from protection.fields import EncryptedDateField, EncryptedField
from protection.keys import CIPHERTEXT_PREFIX, Erased
from protection.masks import MASK, mask

MASKED_SUFFIX = "_masked"
COARSE_SUFFIX = "_coarse"
# The request attribute naming the one record whose protected values this request shows.
REVEALED_ATTRIBUTE = "_haven_admin_revealed"
HISTORY_LIMIT = 100


# Longer protected values are free text (notes, whereabouts, a safety plan): a word-by-word
# mask would still give away their shape, so they are hidden whole.
LONGEST_MASKED_VALUE = 200


def _masked_display(field: EncryptedField) -> Callable[[models.Model], str]:
    """A read-only admin column showing a protected field masked ("*****")."""
    free_text = not isinstance(field, EncryptedDateField) and (
        not field.max_plaintext_length or field.max_plaintext_length > LONGEST_MASKED_VALUE
    )

    def display(obj: models.Model) -> str:
        if obj is None or obj.pk is None:
            return ""
        value = getattr(obj, field.attname)
        if free_text and value not in (None, "") and not isinstance(value, Erased):
            return _("(hidden)")
        return mask(value)

    display.__name__ = field.name + MASKED_SUFFIX
    display.short_description = field.verbose_name
    return display


def _history_value(value: object) -> str:
    if isinstance(value, str) and value.startswith(CIPHERTEXT_PREFIX):
        return _("(encrypted value)")
    return "—" if value in (None, "") else str(value)


def _history_values(
    model: type[models.Model], field: str, before: object, after: object, coarse: bool
) -> tuple[str, str]:
    values = (_history_value(before), _history_value(after))
    if not coarse:
        return values
    return tuple(
        value if value == "—" else coarsen(model._meta.label_lower, field, value)
        for value in values
    )


def _coarse_display(model: type[models.Model], name: str) -> Callable[[models.Model], str]:
    """A read-only admin column showing a detail that narrows a person down coarsely: a date
    as its month, anything else masked (`COARSE_FIELDS` of the model)."""
    field = model._meta.get_field(name)

    def display(obj: models.Model) -> str:
        value = getattr(obj, name, None) if obj is not None else None
        if value in (None, ""):
            return "—"
        if model.COARSE_FIELDS[name] == "month":
            return formats.date_format(value, "YEAR_MONTH_FORMAT")
        return MASK

    display.__name__ = name + COARSE_SUFFIX
    display.short_description = field.verbose_name
    return display


class ProtectedFieldsAdmin(admin.ModelAdmin):
    """Deny by default: every field is read-only unless listed as editable, and protected
    fields are editable (and visible) only to admin users who may reveal identity."""

    # Clear (unencrypted) fields an admin user with the change permission may edit.
    editable_clear_fields: frozenset[str] = frozenset()
    # Protected fields a revealing admin user may edit; None means all of them.
    editable_protected_fields: frozenset[str] | None = None
    # Read-only extras shown at the end of the form (methods of the admin).
    extra_readonly_fields: tuple[str, ...] = ("history",)
    # Declared form fields (not model fields) that must stay in the form.
    form_only_fields: frozenset[str] = frozenset()
    list_select_related = ["case"]
    list_per_page = 50

    def __init__(self, model: type[models.Model], admin_site: admin.AdminSite) -> None:
        super().__init__(model, admin_site)
        self.protected_fields = [
            field.name for field in model._meta.concrete_fields if isinstance(field, EncryptedField)
        ]
        self.blind_index_fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, BlindIndexField)
        ]
        for name in self.protected_fields:
            setattr(self, name + MASKED_SUFFIX, _masked_display(model._meta.get_field(name)))
        for name in getattr(model, "COARSE_FIELDS", {}):
            setattr(self, name + COARSE_SUFFIX, _coarse_display(model, name))

    # --- who may see and change what ----------------------------------------------------------

    def may_reveal(self, request: HttpRequest, obj: Any = None) -> bool:
        """Whether this request shows `obj`'s protected values in clear: decided once, in
        `changeform_view`, by need-to-know (cases/rules.py) and the reveal budget, and logged.
        Lists and the add form never do."""
        return obj is not None and getattr(request, REVEALED_ATTRIBUTE, None) == (
            self.model._meta.label_lower,
            str(obj.pk),
        )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        # Before the admin's transaction, so that a refusal stays in the access log.
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if obj is not None and self.protected_fields and may_reveal(request.user):
            if request.user.has_perm(SEE_IDENTITY, obj):
                try:
                    record_reveal(
                        actor=request.user, obj=obj, field_name="identity", request=request
                    )
                except PermissionDenied as refusal:
                    self.message_user(request, str(refusal), messages.WARNING)
                else:
                    setattr(request, REVEALED_ATTRIBUTE, (obj._meta.label_lower, str(obj.pk)))
            else:
                self.message_user(request, str(Case.REVEAL_REFUSAL), messages.INFO)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def editable_fields(self, request: HttpRequest, obj: Any = None) -> set[str]:
        editable = set(self.editable_clear_fields)
        if not self.may_reveal(request, obj):
            # Outside the team, the details that narrow a person down are shown coarse.
            editable -= set(getattr(self.model, "COARSE_FIELDS", {}))
        if self.may_reveal(request, obj):
            protected = set(self.protected_fields)
            if self.editable_protected_fields is not None:
                protected &= set(self.editable_protected_fields)
            editable |= protected
        return editable

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # No filtering on a protected field, a blind index or a detail the model keeps coarse
        # for readers outside the team (COARSE_FIELDS) through the URL: each would let someone
        # test a guess against the stored values.
        field_name = lookup.split("__", 1)[0]
        coarse = getattr(self.model, "COARSE_FIELDS", {})
        if (
            field_name in self.protected_fields
            or field_name in self.blind_index_fields
            or field_name in coarse
        ):
            return False
        return super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing this user could edit: show the record, without a save button.
        return bool(self.editable_fields(request, obj)) and super().has_change_permission(
            request, obj
        )

    # --- the form -------------------------------------------------------------------------------

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Every stored field but the data key and the blind indexes (keyed hashes, which would
        # only help someone confirm a guessed service number).
        names = [
            field.name
            for field in self.model._meta.concrete_fields
            if not field.primary_key
            and field.name != "data_key"
            and not isinstance(field, BlindIndexField)
        ]
        return [*names, *self.extra_readonly_fields]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.may_reveal(request, obj):
            return fieldsets
        # Outside the team a protected field is replaced by its masked display, a detail that
        # narrows the person down by its coarse form, and the history by its coarse version.
        coarse = getattr(self.model, "COARSE_FIELDS", {})

        def shown(name: str) -> str:
            if name in self.protected_fields:
                return name + MASKED_SUFFIX
            if name in coarse:
                return name + COARSE_SUFFIX
            return "history_coarse" if name == "history" else name

        return [
            (title, {**options, "fields": [shown(name) for name in options["fields"]]})
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        editable = self.editable_fields(request, obj)
        return [
            name
            for name in flatten_fieldsets(self.get_fieldsets(request, obj))
            if name not in editable and name not in self.form_only_fields
        ]

    # --- read-only extras -----------------------------------------------------------------------

    @admin.display(description=gettext_lazy("history"))
    def history(self, obj: models.Model, coarse: bool = False) -> str:
        """The change history of this record: who, when, which fields, before and after.
        Encrypted values appear as "(encrypted value)", never as ciphertext."""
        if obj is None or obj.pk is None:
            return ""
        events = list(selectors.history_of(obj, limit=HISTORY_LIMIT))
        if not events:
            return _("No changes recorded.")
        names = usernames_by_id({str((event.pgh_context or {}).get("user")) for event in events})
        rows = []
        for event in events:
            context = event.pgh_context or {}
            changes = format_html_join(
                "",
                "<li>{}: {} → {}</li>",
                (
                    (field, *_history_values(self.model, field, before, after, coarse))
                    for field, (before, after) in sorted((event.pgh_diff or {}).items())
                    if field not in ("updated_at", "data_key")
                ),
            )
            rows.append(
                (
                    f"{timezone.localtime(event.pgh_created_at):%Y-%m-%d %H:%M}",
                    names.get(str(context.get("user")), "—"),
                    context.get("action") or event.pgh_label,
                    format_html("<ul>{}</ul>", changes) if changes else "",
                )
            )
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("When"),
            _("Who"),
            _("What"),
            _("Changes"),
            body,
        )

    @admin.display(description=gettext_lazy("history"))
    def history_coarse(self, obj: models.Model) -> str:
        return self.history(obj, coarse=True)

    @admin.display(description=gettext_lazy("case"), ordering="case__code")
    def case_code(self, obj: models.Model) -> str:
        return obj.case.code
