"""factory-boy factories with fictional people only."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RoleGrant, User

DEFAULT_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda number: f"staff{number}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@haven.example")
    password = factory.django.Password(DEFAULT_PASSWORD)
    is_active = True
    # Older than the cooling period (accounts/cooling.py), as staff who have worked a while are;
    # a test of the cooling period makes a younger one.
    date_joined = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=30))

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs) -> None:
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))
            # Roles granted when the account was made, not just now.
            RoleGrant.objects.filter(user=self).update(granted_at=self.date_joined)


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "authenticator"
    confirmed = True


class ProtectedRecordFactory(factory.django.DjangoModelFactory):
    """The test-only model with encrypted fields (tests/protected_app, test settings only)."""

    class Meta:
        model = "protected_app.ProtectedRecord"

    code = factory.Sequence(lambda number: f"PR-{number:04d}")
    real_name = factory.Faker("name")
    service_number = factory.Sequence(lambda number: f"MA{10000 + number}")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=60)


# --- cases ------------------------------------------------------------------------------------


def fictional_name() -> str:
    """A fictional Burmese-style name, as the demo data makes them."""
    import random

    from cases.demo import fictional_name as demo_name

    return demo_name(random.Random())


class CaseFactory(factory.django.DjangoModelFactory):
    """A case in intake, created directly (tests of services create theirs through services)."""

    class Meta:
        model = "cases.Case"

    code = factory.Sequence(lambda number: f"HV-2025-{50000 + number:05d}")
    contact_date = factory.Faker("date_between", start_date="-2y", end_date="-1d")
    channel = "messaging"
    region = "sagaing"
    township = "Monywa"
    force = "army"
    rank = "corporal"
    unit_type = "infantry"
    real_name = factory.LazyFunction(fictional_name)
    service_number = factory.Sequence(lambda number: f"BA-{700000 + number}")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=19, maximum_age=50)
    intake_officer = factory.SubFactory(UserFactory, roles=["Intake officer"])


class VerifiedCaseFactory(CaseFactory):
    """A case already verified by a case manager other than its intake officer."""

    status = "verified"
    decided_by = factory.SubFactory(UserFactory, roles=["Case manager"])
    decided_at = factory.LazyFunction(timezone.now)
    decision_reason = "All checks passed"
    risk_level = "medium"


class FamilyMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cases.FamilyMember"

    case = factory.SubFactory(VerifiedCaseFactory)
    name = factory.LazyFunction(fictional_name)
    relation = "child"
    age = 7
    needs_housing = True


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cases.Partner"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda number: f"Fictional Partner {number}")
    partner_type = "medical"


# --- housing ----------------------------------------------------------------------------------


class HouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "housing.House"

    code_name = factory.Sequence(lambda number: f"Lotus {number}")
    town = "Mae Sot"
    country = "TH"
    address = factory.Sequence(lambda number: f"{number} Fictional Soi, Mae Sot")


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "housing.Room"

    house = factory.SubFactory(HouseFactory)
    name = factory.Sequence(lambda number: f"Room {number}")


class BedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "housing.Bed"

    room = factory.SubFactory(RoomFactory)
    label = factory.Sequence(lambda number: f"B{number}")


# --- payments ---------------------------------------------------------------------------------


class FundingSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "payments.FundingSource"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda number: f"Fictional Donor {number}")
    currency = "THB"


class StipendPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "payments.StipendPlan"

    case = factory.SubFactory(VerifiedCaseFactory)
    amount = "1000.00"
    currency = "THB"
    start_date = factory.LazyFunction(
        lambda: timezone.localdate().replace(day=1) - datetime.timedelta(days=62)
    )
    funding_source = factory.SubFactory(FundingSourceFactory)
    created_by = factory.SubFactory(UserFactory, roles=["Finance officer"])


def assign_verifier(case, verifier):
    """The case with `verifier` assigned by a case manager (nobody takes a case themselves)."""
    from accounts.roles import Role
    from cases import services

    manager = UserFactory(roles=[Role.CASE_MANAGER])
    return services.case_assign_verifier(case=case, actor=manager, verifier=verifier)


def add_to_team(case, *users):
    """`users` added to the case's team by a case manager (nobody adds themselves)."""
    from accounts.roles import Role
    from cases.models import CaseTeamMember

    manager = UserFactory(roles=[Role.CASE_MANAGER])
    for user in users:
        CaseTeamMember.objects.create(case=case, user=user, added_by=manager)
    return case
