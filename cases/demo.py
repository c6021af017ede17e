"""Fictional demo cases with the shape of the real work: a peak of contacts in the second half
of 2021 falling to a trickle after April 2022; about 30% soldiers and 70% police; mostly low
ranks; about 10% arriving with weapons. Created through the services, so the history is real."""

from __future__ import annotations

import datetime
import random
from typing import TextIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.demo import register_demo_loader
from accounts.models import User
from accounts.services import protected_field_reveal
from cases import services
from cases.choices import (
    CheckResult,
    JourneyStage,
    Rank,
    Region,
    RiskLevel,
    Status,
    UnitType,
    Urgency,
)
from cases.models import BreakGlass, Case, Partner, VerificationCheck

GIVEN = (
    "Aung",
    "Kyaw",
    "Zaw",
    "Min",
    "Thura",
    "Htet",
    "Naing",
    "Soe",
    "Win",
    "Myo",
    "Thant",
    "Phyo",
    "Hein",
    "Ye",
    "Lin",
    "Tun",
    "Hla",
    "Nyein",
    "Thiri",
    "Su",
    "Khin",
    "Aye",
    "Mya",
    "Nandar",
    "Ei",
    "Phyu",
    "Wai",
    "Yan",
    "Paing",
    "Zin",
    "Moe",
    "Sandar",
    "Thet",
    "Oo",
    "Kaung",
    "Htoo",
)
CHILD_RELATIONS = ("child", "child", "spouse", "parent", "sibling")
ITEMS = (
    ("rifle", 1),
    ("rifle", 1),
    ("rifle", 2),
    ("pistol", 1),
    ("machine_gun", 1),
    ("rounds", 120),
)
TOWNSHIPS = {
    Region.SAGAING: ("Monywa", "Kale", "Shwebo"),
    Region.YANGON: ("Hlaing", "Insein", "Thanlyin"),
    Region.MANDALAY: ("Chanayethazan", "Pyin Oo Lwin", "Meiktila"),
    Region.MAGWAY: ("Pakokku", "Gangaw"),
    Region.KAYIN: ("Myawaddy", "Hpa-an"),
    Region.BAGO: ("Taungoo", "Pyay"),
    Region.SHAN: ("Taunggyi", "Lashio"),
}
POLICE_UNITS = (UnitType.POLICE_STATION, UnitType.POLICE_STATION, UnitType.POLICE_BATTALION)
ARMY_UNITS = (
    UnitType.INFANTRY,
    UnitType.INFANTRY,
    UnitType.ARTILLERY,
    UnitType.SIGNALS,
    UnitType.SUPPORT,
)


def contacts_in(month: datetime.date) -> int:
    """How many contacts the demo has in a month (the article's curve, scaled to ~300 cases)."""
    if month < datetime.date(2021, 6, 1):
        return 8
    if month < datetime.date(2022, 1, 1):
        return 22
    if month < datetime.date(2022, 5, 1):
        return 10
    return 1 if month.month % 3 else 2


def months(start: datetime.date, end: datetime.date):
    month = start
    while month <= end:
        yield month
        month = (month + datetime.timedelta(days=32)).replace(day=1)


def fictional_name(chooser: random.Random) -> str:
    return " ".join(chooser.choice(GIVEN) for _ in range(chooser.choice((2, 3, 3))))


def pick_rank(chooser: random.Random) -> str:
    roll = chooser.random()
    if roll < 0.55:
        return Rank.PRIVATE
    if roll < 0.85:
        return chooser.choice(
            (Rank.LANCE_CORPORAL, Rank.CORPORAL, Rank.SERGEANT, Rank.WARRANT_OFFICER)
        )
    if roll < 0.97:
        return chooser.choice((Rank.SECOND_LIEUTENANT, Rank.LIEUTENANT, Rank.CAPTAIN, Rank.CAPTAIN))
    return chooser.choice((Rank.MAJOR, Rank.MAJOR, Rank.LIEUTENANT_COLONEL))


def load_demo_cases(stdout: TextIO) -> None:
    if Case.objects.exists():
        stdout.write("  cases already there\n")
        return
    chooser = random.Random(2021)
    intake_officer = User.objects.get(username="intake")
    verifier = User.objects.get(username="verifier")
    case_manager = User.objects.get(username="casemanager")
    today = timezone.localdate()
    created = 0
    for month in months(datetime.date(2021, 2, 1), today.replace(day=1)):
        for _ in range(contacts_in(month)):
            last_day = min(
                today,
                (month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1),
            )
            contact = month + datetime.timedelta(
                days=chooser.randrange((last_day - month).days + 1)
            )
            create_case(chooser, contact, today, intake_officer, verifier, case_manager)
            created += 1
    # A few recent contacts, so every role finds work waiting: two drafts, one being verified,
    # two proposals for the case manager.
    for days_ago in (2, 5, 12, 16, 20):
        create_case(
            chooser,
            today - datetime.timedelta(days=days_ago),
            today,
            intake_officer,
            verifier,
            case_manager,
        )
        created += 1
    backdate_decisions()
    stdout.write(f"  {created} fictional cases created\n")
    load_demo_partners(case_manager)
    stdout.write(f"  {len(DEMO_PARTNERS)} fictional partner organisations\n")


# Fictional partner organisations, one of each kind, for the referral form's directory.
DEMO_PARTNERS = (
    ("Border Clinic (fictional)", "medical"),
    ("Legal Aid Circle (fictional)", "legal"),
    ("Ministry Liaison Office (fictional)", "ministry"),
    ("Resistance Contact Desk (fictional)", "resistance"),
)


def load_demo_partners(actor: User) -> None:
    for name, partner_type in DEMO_PARTNERS:
        if not Partner.objects.filter(name=name).exists():
            services.partner_create(actor=actor, name=name, partner_type=partner_type)


def backdate_decisions() -> None:
    """The services stamp decisions with the time they ran; in the demo, a case was decided one
    to four weeks after its first contact (never in the future). The contact date is encrypted,
    so this is worked out here rather than in SQL."""
    zone = timezone.get_current_timezone()
    now = timezone.now()
    changed = []
    for case in Case.objects.filter(decided_at__isnull=False).only(
        "pk", "contact_date", "emergency", "emergency_since", "data_key"
    ):
        contact = datetime.datetime.combine(case.contact_date, datetime.time(), tzinfo=zone)
        case.decided_at = min(now, contact + datetime.timedelta(days=7 + case.pk % 22, hours=10))
        if case.emergency:
            case.emergency_since = min(now, contact + datetime.timedelta(days=9 + case.pk % 22))
        changed.append(case)
    Case.objects.bulk_update(changed, ["decided_at", "emergency_since"], batch_size=500)


def create_case(chooser, contact, today, intake_officer, verifier, case_manager) -> Case:
    force = "army" if chooser.random() < 0.3 else "police"
    region = chooser.choice(list(TOWNSHIPS))
    birth = datetime.date(
        chooser.randint(1965, 2003), chooser.randint(1, 12), chooser.randint(1, 28)
    )
    prefix = "BA" if force == "army" else "PL"
    digits = [chooser.randint(100, 999) for _ in range(3)]
    case = services.case_intake(
        actor=intake_officer,
        confirmed_not_duplicate=True,
        real_name=fictional_name(chooser),
        service_number=f"{prefix}-{chooser.randint(100000, 999999)}-{contact:%y%m}",
        phone="+95 9 " + " ".join(str(digit) for digit in digits),
        date_of_birth=birth,
        contact_date=contact,
        defection_date=contact + datetime.timedelta(days=chooser.randint(0, 20))
        if contact < today - datetime.timedelta(days=21)
        else None,
        channel=chooser.choice(("phone", "messaging", "messaging", "in_person", "partner")),
        region=region,
        township=chooser.choice(TOWNSHIPS[region]),
        force=force,
        rank=pick_rank(chooser),
        unit_type=chooser.choice(ARMY_UNITS if force == "army" else POLICE_UNITS),
        urgency=chooser.choice(
            (Urgency.ROUTINE, Urgency.ROUTINE, Urgency.URGENT, Urgency.IMMEDIATE)
        ),
        risk_level=chooser.choice(
            (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL)
        ),
    )
    for _ in range(chooser.choice((0, 0, 0, 1, 2, 3))):
        relation = chooser.choice(CHILD_RELATIONS)
        services.family_member_add(
            case=case,
            actor=intake_officer,
            name=fictional_name(chooser),
            relation=relation,
            age=chooser.randint(1, 16) if relation == "child" else chooser.randint(20, 70),
            needs_housing=relation in ("child", "spouse"),
        )
    if chooser.random() < 0.10:
        item_type, count = chooser.choice(ITEMS)
        services.item_add(
            case=case,
            actor=intake_officer,
            item_type=item_type,
            count=count,
            handed_over_to="Partner armed group",
        )
    age_in_days = (today - contact).days
    if age_in_days < 10:
        return case  # still in intake
    case = services.case_assign_verifier(case=case, actor=case_manager, verifier=verifier)
    # The case's team: another case manager names its case manager (nobody names themselves).
    case = services.case_assign_case_manager(
        case=case, actor=User.objects.get(username="casemanager2"), case_manager=case_manager
    )
    case = services.case_start_verification(case=case, actor=verifier)
    checks = list(VerificationCheck.objects.filter(case=case))
    if age_in_days < 25:
        proposing = age_in_days >= 14
        for check in checks if proposing else checks[: chooser.randint(0, 3)]:
            services.verification_check_record(
                check=check, actor=verifier, result=CheckResult.PASSED
            )
        if proposing:
            case = services.case_propose_decision(
                case=case,
                actor=verifier,
                decision=Status.VERIFIED,
                reason="All four checks passed.",
            )
        return case
    roll = chooser.random()
    if roll < 0.06:
        return services.case_withdraw(
            case=case, actor=case_manager, reason="The person stopped answering."
        )
    failed = roll < 0.14
    for position, check in enumerate(checks):
        result = CheckResult.FAILED if failed and position == 1 else CheckResult.PASSED
        services.verification_check_record(check=check, actor=verifier, result=result)
    decision = Status.REJECTED if failed else Status.VERIFIED
    services.case_propose_decision(
        case=case, actor=verifier, decision=decision, reason="Checklist complete."
    )
    case = services.case_decide(
        case=case,
        actor=case_manager,
        decision=decision,
        reason="Unit and rank not confirmed by any reference."
        if failed
        else "Identity and service confirmed.",
    )
    if decision == Status.VERIFIED:
        # Most people who came long ago have moved on; recent ones are on their way or here.
        moved_on = (JourneyStage.RESETTLED, JourneyStage.RESETTLED, JourneyStage.RELOCATED)
        on_the_way = (JourneyStage.ARRIVED, JourneyStage.ARRIVED, JourneyStage.IN_TRANSIT)
        stage = chooser.choice(
            (*moved_on, JourneyStage.LOST_CONTACT) if age_in_days > 400 else on_the_way
        )
        case = services.case_set_stage(case=case, actor=case_manager, stage=stage)
        if chooser.random() < 0.03:
            case = services.case_set_emergency(
                case=case, actor=case_manager, emergency=True, reason="Family threatened at home."
            )
    return case


def load_demo_need_to_know(stdout: TextIO) -> None:
    """A team with a member added, a break-the-glass awaiting review, and a verifier refused a
    reveal for running over the day's budget (demo login verifier2)."""

    if BreakGlass.objects.exists():
        stdout.write("  need-to-know examples already there\n")
        return
    second_manager = User.objects.get(username="casemanager2")
    outsider = User.objects.get(username="verifier2")
    in_verification = Case.objects.filter(status=Status.VERIFYING).order_by("contact_month", "code")
    helped = in_verification.first()
    if helped is None:
        return
    services.case_team_add(case=helped, actor=second_manager, user=outsider)
    others = Case.objects.exclude(pk=helped.pk)
    emergency = (
        others.filter(emergency=True).order_by("-emergency_since").first()
        or others.filter(status=Status.VERIFIED).order_by("contact_month", "code").first()
    )
    if emergency is None:
        return
    services.break_glass_open(
        case=emergency,
        actor=outsider,
        reason="danger",
        why="The family was threatened tonight and the case manager does not answer the phone.",
    )
    # A backlog shared out: verifier2 added to more teams than a day's budget of reveals.
    budget = settings.HAVEN_REVEAL_BUDGET_PER_DAY
    verified = Case.objects.filter(status=Status.VERIFIED).order_by("-contact_month", "-code")
    backlog = list(verified[: budget + 1])
    refused = 0
    for case in backlog:
        services.case_team_add(case=case, actor=second_manager, user=outsider)
        try:
            protected_field_reveal(actor=outsider, obj=case, field_name="real_name")
        except PermissionDenied:
            refused += 1
    stdout.write(
        f"  need-to-know: a team member added, a break-the-glass to review, {refused} reveal "
        "refused over the budget\n"
    )


def load_demo_erasure_proposals(stdout: TextIO) -> None:
    """What the nightly retention rule would have proposed by now, so that the erasure list
    shows its work at once (idempotent, like the rule itself)."""
    from cases.services.erasure import erasure_propose_by_rule

    result = erasure_propose_by_rule()
    stdout.write(f"  erasure proposals by the retention rule: {result}\n")


register_demo_loader("cases", load_demo_cases, order=10)
register_demo_loader("cases: need-to-know", load_demo_need_to_know, order=15)
# After housing and payments: a proposal changes nothing, but the stays and payments of the
# cases it names are then in place, as they would be in a real installation.
register_demo_loader("erasure proposals", load_demo_erasure_proposals, order=40)
