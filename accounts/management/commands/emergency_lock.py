"""Emergency locks from the server's command line, for when the web interface itself is not
safe to use (see accounts/emergency.py). The access log names the operating-system user.

    manage.py emergency_lock --reason "laptop stolen" [--keep ADMIN]   lock every other account
    manage.py emergency_lock --list                                    locks in force
    manage.py emergency_lock --unlock 12 [--keep-locked NAME ...]      lift lock 12
    manage.py emergency_lock --revoke-device NAME --reason "phone lost"
"""

from __future__ import annotations

import getpass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import emergency
from accounts.models import EmergencyLock, User
from accounts.setup_links import setup_link_issue, setup_link_url
from audit.services import audit_context


def operating_system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Command(BaseCommand):
    help = (
        "Lock every staff account (but --keep's), list or lift emergency locks, or revoke a "
        "lost second-factor device, without the web interface."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        what = parser.add_mutually_exclusive_group()
        what.add_argument("--list", action="store_true", help="Show the locks in force.")
        what.add_argument("--unlock", type=int, metavar="LOCK", help="Lift this lock.")
        what.add_argument(
            "--revoke-device",
            metavar="USERNAME",
            help="Delete this staff member's second-factor devices and lock their account.",
        )
        parser.add_argument("--reason", default="", help="Why, in a few words (no names).")
        parser.add_argument(
            "--keep",
            metavar="USERNAME",
            help="When locking: leave this administrator's account open.",
        )
        parser.add_argument(
            "--keep-locked",
            nargs="*",
            default=[],
            metavar="USERNAME",
            help="When unlocking: leave these accounts switched off.",
        )
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask for confirmation (for scripts)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        operator = operating_system_user()
        try:
            if options["list"]:
                self._list()
            elif options["unlock"] is not None:
                self._unlock(options, operator)
            elif options["revoke_device"]:
                self._revoke(options, operator)
            else:
                self._lock(options, operator)
        except emergency.EmergencyError as error:
            raise CommandError(str(error)) from error

    def _confirm(self, options: dict, question: str) -> None:
        if options["yes"]:
            return
        answer = input(f"{question} Type YES to go on: ")
        if answer.strip() != "YES":
            raise CommandError("Nothing was changed.")

    def _user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist as error:
            raise CommandError(f"There is no staff member {username!r}.") from error

    def _lock(self, options: dict, operator: str) -> None:
        keep = self._user(options["keep"]) if options["keep"] else None
        if keep is not None and not (keep.is_active and keep.has_perm(emergency.PERMISSION)):
            raise CommandError("--keep must name an active administrator.")
        spared = f" except {keep.username}" if keep else ""
        self._confirm(options, f"Every staff account{spared} will be locked and logged out.")
        lock = emergency.emergency_lock_all(
            actor=None, reason=options["reason"], command_line_user=operator, keep=keep
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Lock {lock.pk}: {lock.entries.count()} accounts locked. "
                f"Undo with: manage.py emergency_lock --unlock {lock.pk}"
            )
        )

    def _unlock(self, options: dict, operator: str) -> None:
        lock = EmergencyLock.objects.filter(pk=options["unlock"]).first()
        if lock is None:
            raise CommandError(f"There is no lock {options['unlock']}.")
        if lock.kind == EmergencyLock.Kind.LOST_DEVICE:
            self._unlock_lost_device(lock, options, operator)
            return
        keep_locked = [self._user(username) for username in options["keep_locked"]]
        self._confirm(options, f"Lock {lock.pk} will be lifted.")
        restored = emergency.emergency_lock_lift(
            lock=lock, actor=None, command_line_user=operator, keep_locked=keep_locked
        )
        self.stdout.write(
            self.style.SUCCESS(f"Lock {lock.pk} lifted: {restored} accounts unlocked.")
        )

    def _unlock_lost_device(self, lock: EmergencyLock, options: dict, operator: str) -> None:
        """The server's shell is the second person here: the old password is cleared and the
        staff member sets a new one through the one-time link printed, shown to them in person."""
        self._confirm(
            options,
            f"Lock {lock.pk} will be lifted; the staff member sets a new password with a link.",
        )
        with transaction.atomic(), audit_context(actor=None, command_line_user=operator):
            users = emergency.lost_device_lock_lift(
                lock=lock, actor=None, command_line_user=operator
            )
            links = {user.username: setup_link_url(setup_link_issue(user=user)) for user in users}
        self.stdout.write(self.style.SUCCESS(f"Lock {lock.pk} lifted."))
        for username, url in links.items():
            self.stdout.write(
                f"Show {username} this one-time link in person (it works once, "
                f"{settings.HAVEN_SETUP_LINK_MINUTES} minutes): {url}"
            )

    def _revoke(self, options: dict, operator: str) -> None:
        user = self._user(options["revoke_device"])
        self._confirm(
            options, f"{user.username}'s devices will be deleted and their account locked."
        )
        lock = emergency.second_factor_revoke(
            user=user, actor=None, reason=options["reason"], command_line_user=operator
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Devices revoked; lock {lock.pk}. Lift it (the staff member then sets a new "
                f"password): manage.py emergency_lock --unlock {lock.pk}"
            )
        )

    def _list(self) -> None:
        locks = list(emergency.locks_in_force())
        if not locks:
            self.stdout.write("No lock is in force.")
        for lock in locks:
            by = lock.created_by.username if lock.created_by else f"{lock.command_line_user} (cli)"
            names = ", ".join(entry.user.username for entry in lock.entries.all()) or "-"
            self.stdout.write(
                f"{lock.pk}\t{lock.kind}\t{lock.created_at:%Y-%m-%d %H:%M}\t{by}\t{lock.reason}"
                f"\t{names}"
            )
