"""Fixtures for case tests: one member of staff per case role."""

import pytest

from accounts.roles import Role


@pytest.fixture
def intake_officer(make_staff):
    return make_staff(Role.INTAKE_OFFICER)


@pytest.fixture
def verifier(make_staff):
    return make_staff(Role.VERIFIER)


@pytest.fixture
def case_manager(make_staff):
    return make_staff(Role.CASE_MANAGER)


@pytest.fixture
def other_case_manager(make_staff):
    return make_staff(Role.CASE_MANAGER)
