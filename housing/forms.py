"""Forms of the housing pages. They parse and check input; housing/services/ makes every change
and checks it again."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import MonthRangeForm, StyledForm
from housing.models import Allocation, Bed, Country, House, HouseStatus
from housing.selectors import WaitingEntry

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
REPORT_DEFAULT_MONTHS = 12
REPORT_MAX_MONTHS = 120


def _check_stay(start: datetime.date | None, end: datetime.date | None) -> None:
    if start and end and end <= start:
        raise forms.ValidationError(_("The end of a stay must be after its start."))


# --- choosing beds ------------------------------------------------------------------------------


def bed_label(bed: Bed) -> str:
    """A bed as a closed picker must show it: house, town, room and bed."""
    return _("%(house)s · %(town)s · %(room)s / %(bed)s") % {
        "house": bed.room.house.code_name,
        "town": bed.room.house.town,
        "room": bed.room.name,
        "bed": bed.label,
    }


def bed_choices(beds: Iterable[Bed], empty_label: str) -> list:
    """Free beds as <optgroup>s per house, each house saying how many beds it has free, and
    each bed saying its house, town and room too, so that a closed picker is understood."""
    by_house: dict[House, list[Bed]] = defaultdict(list)
    for bed in beds:
        by_house[bed.room.house].append(bed)
    choices: list = [("", empty_label)]
    for house, house_beds in by_house.items():
        group = _("%(house)s, %(town)s (%(free)d free)") % {
            "house": house.code_name,
            "town": house.town,
            "free": len(house_beds),
        }
        choices.append((group, [(bed.pk, bed_label(bed)) for bed in house_beds]))
    return choices


class BedChoiceField(forms.ModelChoiceField):
    """Offers the free beds, but accepts any bed: if the chosen one was taken, taken out of use
    or its house closed in the meantime, the service says so in words a person can act on."""

    def __init__(self, *, free: Sequence[Bed], empty_label: str, **kwargs: Any) -> None:
        super().__init__(
            queryset=Bed.objects.select_related("room__house"), empty_label=None, **kwargs
        )
        self.widget.choices = bed_choices(free, empty_label)


def propose_beds(people: int, free: Sequence[Bed], town: str = "") -> list[Bed]:
    """Beds for `people` persons, keeping a household together where possible: one room with
    enough free beds, else one house, else the houses with the most free beds first. A town,
    if given, is preferred. Returns fewer beds than people when there are not enough."""
    if town:
        in_town = [bed for bed in free if bed.room.house.town == town]
        if len(in_town) >= people:
            free = in_town
    by_room: dict[int, list[Bed]] = defaultdict(list)
    by_house: dict[int, list[Bed]] = defaultdict(list)
    for bed in free:
        by_room[bed.room_id].append(bed)
        by_house[bed.room.house_id].append(bed)
    # The fullest-fitting room or house first, so that large rooms stay free for large families.
    rooms = sorted((beds for beds in by_room.values() if len(beds) >= people), key=len)
    if rooms:
        return rooms[0][:people]
    houses = sorted((beds for beds in by_house.values() if len(beds) >= people), key=len)
    if houses:
        # Within the house, fill the rooms with the most free beds first.
        beds = sorted(houses[0], key=lambda bed: -len(by_room[bed.room_id]))
        return beds[:people]
    spread = sorted(by_house.values(), key=len, reverse=True)
    return [bed for beds in spread for bed in beds][:people]


def occupant_key(entry: WaitingEntry) -> str:
    return "bed_self" if entry.family_member is None else f"bed_f{entry.family_member.pk}"


class AllocationForm(StyledForm):
    """A bed for each waiting person of one case, a start and an optional end."""

    start = forms.DateField(label=_("From"), widget=DATE_WIDGET)
    end = forms.DateField(
        label=_("Until (optional)"),
        widget=DATE_WIDGET,
        required=False,
        help_text=_("Leave empty for a stay until check-out."),
    )

    def __init__(
        self,
        *args: Any,
        people: Sequence[WaitingEntry],
        free: Sequence[Bed],
        proposed: Sequence[Bed] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.people = list(people)
        self.fields["start"].initial = timezone.localdate()
        for index, entry in enumerate(self.people):
            field = BedChoiceField(
                free=free,
                empty_label=str(_("— not now —")),
                required=False,
                label=entry.label,
                initial=proposed[index].pk if index < len(proposed) else None,
            )
            field.widget.attrs["class"] = "form-select"
            self.fields[occupant_key(entry)] = field

    def bed_fields(self):
        """(waiting entry, bound field) pairs, in the order of the people."""
        return [(entry, self[occupant_key(entry)]) for entry in self.people]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _check_stay(cleaned.get("start"), cleaned.get("end"))
        chosen = [cleaned.get(occupant_key(entry)) for entry in self.people]
        chosen = [bed for bed in chosen if bed is not None]
        if not chosen and not self.errors:
            raise forms.ValidationError(_("Choose a bed for at least one person."))
        if len({bed.pk for bed in chosen}) != len(chosen):
            raise forms.ValidationError(_("Each person needs a bed of their own."))
        return cleaned

    def placements(self) -> list[tuple[WaitingEntry, Bed]]:
        return [
            (entry, self.cleaned_data[occupant_key(entry)])
            for entry in self.people
            if self.cleaned_data.get(occupant_key(entry)) is not None
        ]


class HouseholdMoveForm(StyledForm):
    """A bed for each of a household's current stays that moves now, a date and a reason."""

    on = forms.DateField(label=_("Date of the move"), widget=DATE_WIDGET)
    reason = forms.CharField(
        label=_("Reason for the move"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Do not write names or addresses here."),
    )

    def __init__(
        self,
        *args: Any,
        stays: Sequence[Allocation],
        free: Sequence[Bed],
        proposed: Sequence[Bed] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.stays = list(stays)
        self.fields["on"].initial = timezone.localdate()
        for index, stay in enumerate(self.stays):
            field = BedChoiceField(
                free=free,
                empty_label=str(_("— stays where they are —")),
                required=False,
                label=stay.occupant_label,
                initial=proposed[index].pk if index < len(proposed) else None,
            )
            field.widget.attrs["class"] = "form-select"
            self.fields[f"bed_{stay.pk}"] = field
        self.order_fields([*(f"bed_{stay.pk}" for stay in self.stays), "on", "reason"])

    def bed_fields(self):
        """(stay, bound field) pairs, in the order of the stays."""
        return [(stay, self[f"bed_{stay.pk}"]) for stay in self.stays]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen = [cleaned.get(f"bed_{stay.pk}") for stay in self.stays]
        chosen = [bed for bed in chosen if bed is not None]
        if not chosen and not self.errors:
            raise forms.ValidationError(_("Choose a bed for at least one person."))
        if len({bed.pk for bed in chosen}) != len(chosen):
            raise forms.ValidationError(_("Each person needs a bed of their own."))
        return cleaned

    def moves(self) -> list[tuple[Allocation, Bed]]:
        return [
            (stay, self.cleaned_data[f"bed_{stay.pk}"])
            for stay in self.stays
            if self.cleaned_data.get(f"bed_{stay.pk}") is not None
        ]


class UndoForm(StyledForm):
    reason = forms.CharField(
        label=_("Why is this undone?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: wrong person or wrong bed. Do not write names or addresses."),
    )


class CheckOutForm(StyledForm):
    on = forms.DateField(label=_("Check-out date"), widget=DATE_WIDGET)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()


class TransferForm(StyledForm):
    on = forms.DateField(label=_("Date of the move"), widget=DATE_WIDGET)
    reason = forms.CharField(
        label=_("Reason for the move"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, free: Sequence[Bed], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_bed"] = BedChoiceField(
            free=free, empty_label=str(_("Choose a free bed")), label=_("Move to bed")
        )
        self.fields["to_bed"].widget.attrs["class"] = "form-select"
        self.fields["on"].initial = timezone.localdate()
        self.order_fields(["to_bed", "on", "reason"])


# --- houses -------------------------------------------------------------------------------------


class HouseForm(StyledForm):
    """A new house. The address and contact are encrypted when saved."""

    code_name = forms.CharField(
        label=_("Code name"),
        max_length=50,
        help_text=_("The name used everywhere in Haven. It must not hint at the location."),
    )
    town = forms.CharField(label=_("Town"), max_length=100)
    country = forms.ChoiceField(label=_("Country"), choices=Country.choices)
    address = forms.CharField(
        label=_("Address"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    contact_person = forms.CharField(label=_("Contact person"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("address", "contact_person", "notes"):
            self.fields[name].widget.attrs["autocomplete"] = "off"


class HouseEditForm(HouseForm):
    """Editing a house never shows its protected details: a new value replaces the old one, an
    empty field keeps it (or, with the box ticked, clears the contact person or notes)."""

    clear_contact_person = forms.BooleanField(label=_("Remove the contact person"), required=False)
    clear_notes = forms.BooleanField(label=_("Remove the notes"), required=False)

    KEEP_HELP = _("Hidden. Leave empty to keep the current value.")

    def __init__(self, *args: Any, house: House, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {"code_name": house.code_name, "town": house.town, "country": house.country},
        )
        super().__init__(*args, **kwargs)
        self.fields["address"].required = False
        for name in ("address", "contact_person", "notes"):
            self.fields[name].help_text = self.KEEP_HELP
        self.order_fields(
            [
                "code_name",
                "town",
                "country",
                "address",
                "contact_person",
                "clear_contact_person",
                "notes",
                "clear_notes",
            ]
        )

    def changes(self) -> dict[str, str]:
        """What house_update should change."""
        data = self.cleaned_data
        changes = {name: data[name] for name in ("code_name", "town", "country")}
        if data["address"].strip():
            changes["address"] = data["address"]
        for name in ("contact_person", "notes"):
            if data[name].strip():
                changes[name] = data[name]
            elif data[f"clear_{name}"]:
                changes[name] = ""
        return changes


class RoomForm(StyledForm):
    name = forms.CharField(label=_("Room name"), max_length=50)


class BedForm(StyledForm):
    label = forms.CharField(label=_("Bed label"), max_length=20)


class CompromiseForm(StyledForm):
    reason = forms.CharField(
        label=_("What happened"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Do not write names or addresses here."),
    )
    confirm = forms.BooleanField(
        label=_("I confirm that this house is compromised: nobody new will be placed in it."),
    )


class HouseStatusForm(StyledForm):
    status = forms.ChoiceField(label=_("New status"))
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, house: House, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (value, label)
            for value, label in HouseStatus.choices
            if value not in (house.status, HouseStatus.COMPROMISED)
        ]


# --- filters and reports ------------------------------------------------------------------------


class BoardFilterForm(StyledForm):
    """The board's filters. An unknown value is dropped, never shown as an error."""

    town = forms.ChoiceField(label=_("Town"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *HouseStatus.choices]
    )

    def __init__(self, *args: Any, towns: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["town"].choices = [("", _("Any")), *((town, town) for town in towns)]

    def filters(self) -> dict[str, str]:
        if not self.is_bound:
            return {"town": "", "status": ""}
        return {
            name: self.cleaned_data.get(name, "") if name not in self.errors else ""
            for name in ("town", "status")
        }


class ReportRangeForm(MonthRangeForm):
    """The months the housing reports cover: the last twelve unless chosen."""

    default_months = REPORT_DEFAULT_MONTHS
    max_months = REPORT_MAX_MONTHS
