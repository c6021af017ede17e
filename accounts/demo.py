"""Demo data: a registry of loaders that each app fills from its own `demo.py`, plus demo staff."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import emergency, staff_requests
from accounts.models import RoleGrant, StaffRequest, User
from accounts.roles import Role
from accounts.setup_links import setup_link_use
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
    # Nobody puts themselves on a case's team: a second case manager names the first.
    "casemanager2": (Role.CASE_MANAGER, "Khin", "Sabai"),
    # A verifier outside most teams: broke the glass once and ran over the reveal budget.
    "verifier2": (Role.VERIFIER, "Tun", "Naing"),
    "housing": (Role.HOUSING_COORDINATOR, "Sai", "Lwin Oo"),
    "finance": (Role.FINANCE_OFFICER, "Thiri", "Maung"),
    "approver": (Role.FINANCE_APPROVER, "Zaw", "Lin Aung"),
    "journeys": (Role.JOURNEY_COORDINATOR, "Htet", "Aung Lin"),
    "auditor": (Role.AUDITOR, "Mya", "Sandi"),
    "admin": (Role.ADMINISTRATOR, "Aung", "Khant Min"),
    # Requests about staff need a second administrator to approve them.
    "admin2": (Role.ADMINISTRATOR, "Ei", "Phyu Sin"),
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
        _as_if_long_employed(user)
    stdout.write(f"  {created} demo staff created, {len(DEMO_STAFF) - created} already there\n")


def _as_if_long_employed(user: User) -> None:
    """Demo staff have worked here a while: their accounts and roles are past the cooling period
    (accounts/cooling.py), so the demo's four-eyes steps work at once."""
    settled = timezone.now() - datetime.timedelta(days=30)
    User.objects.filter(pk=user.pk, date_joined__gt=settled).update(date_joined=settled)
    RoleGrant.objects.filter(user=user, granted_at__gt=settled).update(granted_at=settled)


register_demo_loader("staff", load_demo_staff, order=0)


def load_demo_staff_requests(stdout: TextIO) -> None:
    """A role request waiting for the second administrator, and a lost-device lock lifted by
    two administrators, after which the staff member set their own password (the demo's)."""
    admin, second_admin = User.objects.get(username="admin"), User.objects.get(username="admin2")
    if not StaffRequest.objects.filter(kind=StaffRequest.Kind.GRANT_ROLE).exists():
        staff_requests.staff_request_create(
            actor=admin,
            kind=StaffRequest.Kind.GRANT_ROLE,
            user=User.objects.get(username="intake"),
            role=Group.objects.get(name=Role.HOUSING_COORDINATOR),
            reason="Covers the housing desk while the coordinator is away",
        )
        stdout.write("  a role request waits for approval\n")
    if not StaffRequest.objects.filter(kind=StaffRequest.Kind.LIFT_LOCK).exists():
        housing = User.objects.get(username="housing")
        lock = emergency.second_factor_revoke(
            user=housing, actor=None, reason="Phone lost at the market", command_line_user="demo"
        )
        lift = staff_requests.staff_request_create(
            actor=admin,
            kind=StaffRequest.Kind.LIFT_LOCK,
            lock=lock,
            reason="Met in person at the office with a new phone",
        )
        # Demo staff have no authenticator app (the demo switches the second factor off), and
        # an approval always asks for a fresh code: one made for this approval and removed.
        device = TOTPDevice.objects.create(user=second_admin, name="demo", confirmed=True)
        code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
        try:
            approval = staff_requests.staff_request_approve(
                staff_request=lift, actor=second_admin, code=code
            )
        finally:
            device.delete()
        setup_link_use(token=approval.setup_token, password=DEMO_PASSWORD)
        stdout.write("  a lost-device lock lifted by two administrators\n")


register_demo_loader("staff requests", load_demo_staff_requests, order=1000)
