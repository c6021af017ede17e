"""Forms of journeys: the plan (with its legs and contingency steps as numbered rows), the
check-in (the code word first), a code-word check alone, the acknowledgement of a step and the
debrief."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm
from accounts.models import User
from journeys.models import Channel, ContingencyKind, Problem
from journeys.services import ContingencyPlan, DebriefAnswers, LegPlan

LEG_ROWS = 4
CONTINGENCY_ROWS = 4
TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class MomentInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def _code_word_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=100,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("At least 4 characters. Stored like a password: never shown again."),
    )


class HandlersForm(StyledForm):
    """A journey's two handlers, named again by a coordinator from the case's team."""

    lead_handler = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Lead handler"))
    backup_handler = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Backup handler"))

    def __init__(self, *args: Any, handlers=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("lead_handler", "backup_handler"):
            self.fields[name].queryset = handlers if handlers is not None else User.objects.none()
            self.fields[name].label_from_instance = lambda user: user.get_username()


class JourneyPlanForm(HandlersForm):
    departure = forms.DateTimeField(label=_("Planned departure"), widget=MomentInput())
    arrival = forms.DateTimeField(label=_("Planned arrival"), widget=MomentInput())
    every_hours = forms.IntegerField(
        label=_("Check in every … hours"), required=False, min_value=1, max_value=72
    )
    times_of_day = forms.CharField(
        label=_("Or check in at these times"),
        required=False,
        max_length=200,
        help_text=_("Times of day, separated by commas, e.g. 06:00, 12:00, 18:00."),
    )
    grace_minutes = forms.IntegerField(
        label=_("Grace period (minutes)"), min_value=-100000, max_value=100000
    )
    primary_channel = forms.ChoiceField(label=_("Primary channel"), choices=Channel.choices)
    fallback_channel = forms.ChoiceField(label=_("Fallback channel"), choices=Channel.choices)
    channel_details = forms.CharField(
        label=_("How to reach the person"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    travellers = forms.CharField(
        label=_("Family members travelling"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    all_clear_word = _code_word_field(_("All-clear word"))
    duress_word = _code_word_field(_("Duress word"))

    def __init__(self, *args: Any, handlers=None, **kwargs: Any) -> None:
        super().__init__(*args, handlers=handlers, **kwargs)
        for row in range(1, LEG_ROWS + 1):
            required = row == 1
            self.fields[f"leg_{row}_from"] = forms.CharField(
                label=_("Leg %(row)s: from (coarse place)") % {"row": row},
                required=required,
                max_length=100,
            )
            self.fields[f"leg_{row}_to"] = forms.CharField(
                label=_("Leg %(row)s: to (coarse place)") % {"row": row},
                required=required,
                max_length=100,
            )
            self.fields[f"leg_{row}_details"] = forms.CharField(
                label=_("Leg %(row)s: details (encrypted)") % {"row": row},
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        for row in range(1, CONTINGENCY_ROWS + 1):
            self.fields[f"step_{row}_kind"] = forms.ChoiceField(
                label=_("Contingency step %(row)s") % {"row": row},
                required=False,
                choices=[("", "—"), *ContingencyKind.choices],
            )
            self.fields[f"step_{row}_details"] = forms.CharField(
                label=_("Step %(row)s: what to do (encrypted)") % {"row": row},
                required=False,
                max_length=1000,
            )
            self.fields[f"step_{row}_house_code"] = forms.CharField(
                label=_("Step %(row)s: safe house code") % {"row": row},
                required=False,
                max_length=50,
            )
        # Re-style the rows added above.
        for name, field in self.fields.items():
            if name.startswith(("leg_", "step_")):
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)

    def clean_times_of_day(self) -> list[datetime.time]:
        text = self.cleaned_data.get("times_of_day", "")
        times = []
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            match = TIME.match(part)
            if not match:
                raise ValidationError(_("Write times as HH:MM, separated by commas."))
            times.append(datetime.time(int(match.group(1)), int(match.group(2))))
        if len(times) > 24:
            raise ValidationError(_("At most 24 check-in times a day."))
        return times

    def legs(self) -> list[LegPlan]:
        legs = []
        for row in range(1, LEG_ROWS + 1):
            start = self.cleaned_data.get(f"leg_{row}_from", "").strip()
            end = self.cleaned_data.get(f"leg_{row}_to", "").strip()
            if start or end:
                legs.append(
                    LegPlan(
                        from_place=start,
                        to_place=end,
                        details=self.cleaned_data.get(f"leg_{row}_details", ""),
                    )
                )
        return legs

    def contingency(self) -> list[ContingencyPlan]:
        steps = []
        for row in range(1, CONTINGENCY_ROWS + 1):
            kind = self.cleaned_data.get(f"step_{row}_kind", "")
            details = self.cleaned_data.get(f"step_{row}_details", "")
            if kind or details.strip():
                steps.append(
                    ContingencyPlan(
                        kind=kind,
                        details=details,
                        house_code=self.cleaned_data.get(f"step_{row}_house_code", ""),
                    )
                )
        return steps

    def clean(self) -> dict:
        cleaned = super().clean()
        for row in range(1, LEG_ROWS + 1):
            start = (cleaned.get(f"leg_{row}_from") or "").strip()
            end = (cleaned.get(f"leg_{row}_to") or "").strip()
            if bool(start) != bool(end):
                raise ValidationError(_("Each leg needs both where from and where to."))
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "lead_handler": data["lead_handler"],
            "backup_handler": data["backup_handler"],
            "departure": data["departure"],
            "arrival": data["arrival"],
            "grace_minutes": data["grace_minutes"],
            "every_hours": data.get("every_hours"),
            "times_of_day": data.get("times_of_day") or [],
            "primary_channel": data["primary_channel"],
            "fallback_channel": data["fallback_channel"],
            "channel_details": data.get("channel_details", ""),
            "travellers": data.get("travellers", ""),
            "all_clear_word": data["all_clear_word"],
            "duress_word": data["duress_word"],
            "legs": self.legs(),
            "contingency": self.contingency(),
        }


class CheckInForm(StyledForm):
    word = forms.CharField(
        label=_("Code word you heard"),
        max_length=100,
        strip=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "autofocus": True}
        ),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Channel.choices, widget=forms.RadioSelect
    )
    at = forms.DateTimeField(
        label=_("Time of the check-in"),
        required=False,
        widget=MomentInput(),
        help_text=_("Leave empty for now."),
    )
    coarse_location = forms.CharField(
        label=_("Coarse location (town or area)"), required=False, max_length=100
    )
    note = forms.CharField(
        label=_("Note (encrypted)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CodeWordForm(StyledForm):
    word = forms.CharField(
        label=_("Code word you heard"),
        max_length=100,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class AcknowledgeForm(StyledForm):
    step = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class DebriefForm(StyledForm):
    """The debrief: categories to tick (kept for statistics), the hours each leg took, and
    notes (encrypted under the journey's key, destroyed with it)."""

    problems = forms.MultipleChoiceField(
        label=_("What went wrong"),
        choices=Problem.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick nothing if nothing went wrong."),
    )
    contingency_used = forms.MultipleChoiceField(
        label=_("Contingency steps used"),
        choices=ContingencyKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channels_worked = forms.MultipleChoiceField(
        label=_("Channels that worked"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channels_failed = forms.MultipleChoiceField(
        label=_("Channels that failed"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What the next journey should do differently. Destroyed with the route after the "
            "retention period; the ticks above stay for the statistics."
        ),
    )

    def __init__(self, *args: Any, legs=(), **kwargs: Any) -> None:
        self.legs = list(legs)
        super().__init__(*args, **kwargs)
        for leg in self.legs:
            self.fields[f"leg_{leg.position}"] = forms.DecimalField(
                label=_("Hours from %(start)s to %(end)s")
                % {"start": leg.from_place, "end": leg.to_place},
                required=False,
                min_value=0,
                max_value=2000,
                max_digits=5,
                decimal_places=1,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
            self.fields[f"leg_{leg.position}"].widget.attrs.setdefault("class", "form-control")

    def choice_fields(self) -> list:
        return [
            self[name]
            for name in ("problems", "contingency_used", "channels_worked", "channels_failed")
        ]

    def leg_fields(self) -> list:
        return [self[f"leg_{leg.position}"] for leg in self.legs]

    def clean(self) -> dict:
        cleaned = super().clean()
        worked = set(cleaned.get("channels_worked") or [])
        if worked & set(cleaned.get("channels_failed") or []):
            self.add_error(
                "channels_failed", _("A channel cannot both have worked and have failed.")
            )
        return cleaned

    def answers(self) -> DebriefAnswers:
        data = self.cleaned_data
        return DebriefAnswers(
            problems=list(data["problems"]),
            contingency_used=list(data["contingency_used"]),
            channels_worked=list(data["channels_worked"]),
            channels_failed=list(data["channels_failed"]),
            leg_hours={leg.position: data.get(f"leg_{leg.position}") for leg in self.legs},
            notes=data["notes"],
        )

    @classmethod
    def initial_for(cls, debrief, legs) -> dict:
        initial = {f"leg_{leg.position}": leg.hours_taken for leg in legs}
        if debrief is not None:
            initial.update(
                problems=debrief.problems,
                contingency_used=debrief.contingency_used,
                channels_worked=debrief.channels_worked,
                channels_failed=debrief.channels_failed,
                notes=debrief.notes or "",
            )
        return initial
