"""factory-boy factories with fictional people only."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

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

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs) -> None:
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


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
