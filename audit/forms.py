"""The audit trail's filters: a person, a case, a date range, an action, a kind of record."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import selectors
from audit.history import EVENT_LABELS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditTrailFilterForm(forms.Form):
    model = forms.ChoiceField(label=_("Record type"), required=False)
    who = forms.CharField(label=_("Who (user name)"), required=False, max_length=150)
    case = forms.CharField(label=_("Case code"), required=False, max_length=20)
    start = forms.DateField(label=_("From"), required=False, widget=DATE_WIDGET)
    end = forms.DateField(label=_("To"), required=False, widget=DATE_WIDGET)
    action = forms.ChoiceField(label=_("What"), required=False)

    def __init__(self, *args: Any, record_types: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("All")), *record_types]
        self.fields["action"].choices = [("", _("All")), *EVENT_LABELS.items()]
        # Bootstrap's classes (accounts.forms.StyledForm is above the audit app).
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-errors"

    def clean_who(self) -> int | None:
        username = self.cleaned_data["who"].replace("\x00", "").strip()
        if not username:
            return None
        pk = selectors.staff_pk_by_username(username)
        if pk is None:
            raise forms.ValidationError(_("No member of staff has that user name."))
        return pk

    def clean_case(self) -> int | None:
        code = self.cleaned_data["case"].strip()
        if not code:
            return None
        pk = selectors.case_pk_by_code(code)
        if pk is None:
            raise forms.ValidationError(_("No case has that code."))
        return pk

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end of the range is before its start."))
        return cleaned

    def filters(self) -> selectors.HistoryFilters | None:
        """The filters asked for, or None when one of them is wrong (nothing is shown then: a
        list that silently ignored the wrong filter would look like the answer)."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        zone = timezone.get_current_timezone()

        def midnight(day: datetime.date) -> datetime.datetime:
            return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)

        return selectors.HistoryFilters(
            model=data["model"],
            actor_id=data["who"],
            case_id=data["case"],
            start=midnight(data["start"]) if data["start"] else None,
            end=midnight(data["end"] + datetime.timedelta(days=1)) if data["end"] else None,
            label=data["action"],
        )
