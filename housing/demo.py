"""Fictional demo safe houses in Mae Sot and two other border towns, with people in them:
some stays finished, most current, a waiting list left over, and one house compromised."""

from __future__ import annotations

import datetime
import random
from typing import TextIO

from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from accounts.demo import register_demo_loader
from accounts.models import User
from audit.services import audit_context
from cases.choices import JourneyStage
from cases.choices import Status as CaseStatus
from cases.models import Case
from housing import services
from housing.models import Bed, House, Room
from housing.selectors import free_beds, moment_of
from housing.services import Occupant

HOUSES = [
    ("Lotus", "Mae Sot"),
    ("Jasmine", "Mae Sot"),
    ("Teak", "Mae Sot"),
    ("Banyan", "Mae Sot"),
    ("Orchid", "Mae Sot"),
    ("Bamboo", "Mae Sot"),
    ("River", "Umphang"),
    ("Hill", "Umphang"),
    ("Mist", "Umphang"),
    ("Pine", "Mae Sariang"),
    ("Salween", "Mae Sariang"),
    ("Cloud", "Mae Sariang"),
]


def load_demo_housing(stdout: TextIO) -> None:
    if House.objects.exists():
        stdout.write("  houses already there\n")
        return
    chooser = random.Random(2022)
    coordinator = User.objects.get(username="housing")
    with audit_context(actor=coordinator, action="demo.houses"):
        for number, (name, town) in enumerate(HOUSES, start=1):
            house = House(
                code_name=name,
                town=town,
                country="TH",
                address=f"{number} Fictional Soi {chooser.randint(1, 40)}, {town}, Tak",
                contact_person=f"Caretaker {name}",
            )
            house.save()
            for room_number in range(1, chooser.randint(2, 4) + 1):
                room = Room.objects.create(house=house, name=f"Room {room_number}")
                Bed.objects.bulk_create(
                    Bed(room=room, label=f"{room_number}{letter}")
                    for letter in "ABCD"[: chooser.randint(2, 4)]
                )
    today = timezone.localdate()
    verified = list(
        Case.objects.filter(status=CaseStatus.VERIFIED).order_by(
            "-decided_at", "-contact_month", "-code"
        )[:90]
    )
    housed = 0
    for position, case in enumerate(reversed(verified)):
        if position % 9 == 0:
            continue  # left on the waiting list
        if case.journey_stage in (JourneyStage.CONTACTED, JourneyStage.IN_TRANSIT):
            continue  # still on the way: a bed now would record their arrival
        people = [Occupant(case)] + [
            Occupant(case, member) for member in case.family_members.filter(needs_housing=True)
        ]
        start = max(case.contact_date, today - datetime.timedelta(days=chooser.randint(20, 400)))
        beds = list(
            free_beds().exclude(allocations__stay__overlap=DateTimeTZRange(moment_of(start), None))[
                : len(people)
            ]
        )
        if len(beds) < len(people):
            break
        allocations = services.household_allocate(
            actor=coordinator, placements=list(zip(people, beds, strict=True)), start=start
        )
        housed += len(allocations)
        if chooser.random() < 0.35:
            end = min(
                today - datetime.timedelta(days=1),
                start + datetime.timedelta(days=chooser.randint(14, 120)),
            )
            if end > start:
                for allocation in allocations:
                    services.allocation_check_out(allocation=allocation, actor=coordinator, on=end)
    services.house_mark_compromised(
        house=House.objects.get(code_name="Teak"),
        actor=coordinator,
        reason="Neighbours report strangers asking about the house (demo).",
    )
    stdout.write(f"  {len(HOUSES)} houses created, {housed} people housed\n")


register_demo_loader("housing", load_demo_housing, order=20)
