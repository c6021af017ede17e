"""Demo data: a registry of loaders that each app fills from its own `demo.py`, plus demo staff."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from django.conf import settings
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import Role
from audit.services import audit_context

# Printed by `make run`; long enough for the password validators, and only ever used with
# fictional data because the loaders refuse to run outside the demo settings.
DEMO_PASSWORD = "haven-demo-2026"  # noqa: S105  (public by design, demo only)


class DemoDataRefused(Exception):
    """Demo data was requested where it must never exist (any settings but the demo's)."""


@dataclass(frozen=True)
class DemoLoader:
    name: str
    load: Callable[[TextIO], None]
    order: int


_loaders: dict[str, DemoLoader] = {}


def register_demo_loader(name: str, func: Callable[[TextIO], None], order: int = 100) -> None:
    """Add a loader; lower `order` runs first. Registering a name again replaces it, so a module
    imported twice does not load its data twice.

    Domain apps register from their own `demo.py` module, which `load_demo` discovers; accounts
    never imports them, so the one-way imports of STYLE.md hold.
    """
    _loaders[name] = DemoLoader(name=name, load=func, order=order)


def registered_demo_loaders() -> list[DemoLoader]:
    return sorted(_loaders.values(), key=lambda loader: (loader.order, loader.name))


def run_demo_loaders(stdout: TextIO) -> None:
    """Run every loader in order. Each must be idempotent: `make run` calls this every time."""
    if not getattr(settings, "HAVEN_DEMO", False):
        raise DemoDataRefused(
            "Demo data can only be loaded with the demo settings (HAVEN_DEMO = True); "
            "these settings are not the demo's, so nothing was loaded."
        )
    with audit_context(actor=None, reason="demo data"):
        for loader in registered_demo_loaders():
            stdout.write(f"Demo data: {loader.name}\n")
            loader.load(stdout)


# username -> (role, first name, last name); invented names, no real people.
DEMO_STAFF = {
    "intake": (Role.INTAKE_OFFICER, "Nilar", "Htun"),
    "verifier": (Role.VERIFIER, "Kyaw", "Zeya"),
    "casemanager": (Role.CASE_MANAGER, "Hnin", "Wut Yi"),
    "housing": (Role.HOUSING_COORDINATOR, "Sai", "Lwin Oo"),
    "finance": (Role.FINANCE_OFFICER, "Thiri", "Maung"),
    "approver": (Role.FINANCE_APPROVER, "Zaw", "Lin Aung"),
    "auditor": (Role.AUDITOR, "Mya", "Sandi"),
    "admin": (Role.ADMINISTRATOR, "Aung", "Khant Min"),
}
# The admin site is where administrators work and auditors read the history.
DEMO_STAFF_WITH_ADMIN_SITE = {Role.ADMINISTRATOR, Role.AUDITOR}


def load_demo_staff(stdout: TextIO) -> None:
    """One member of staff per role, all with DEMO_PASSWORD. Existing accounts are left as they
    are (a password changed in the demo stays changed); only a missing role is added back."""
    groups = {group.name: group for group in Group.objects.filter(name__in=Role.ALL)}
    missing_groups = set(Role.ALL) - set(groups)
    if missing_groups:
        raise DemoDataRefused(
            f"The roles {sorted(missing_groups)} do not exist; run `python manage.py migrate`."
        )
    created = 0
    for username, (role, first_name, last_name) in DEMO_STAFF.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                first_name=first_name,
                last_name=last_name,
                email=f"{username}@haven.example",
                is_staff=role in DEMO_STAFF_WITH_ADMIN_SITE,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            created += 1
        user.groups.add(groups[role])
    stdout.write(f"  {created} demo staff created, {len(DEMO_STAFF) - created} already there\n")


register_demo_loader("staff", load_demo_staff, order=0)
