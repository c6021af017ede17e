"""End every session from the server's command line (see accounts/emergency.py): everyone must
log in again with password and code. The access log names the operating-system user."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import emergency
from accounts.management.commands.emergency_lock import operating_system_user


class Command(BaseCommand):
    help = "Log everyone out everywhere: delete every session from the session store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask for confirmation (for scripts)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            answer = input("Everyone will be logged out everywhere. Type YES to go on: ")
            if answer.strip() != "YES":
                raise CommandError("Nothing was changed.")
        try:
            ended = emergency.sessions_end_all(
                actor=None, command_line_user=operating_system_user()
            )
        except emergency.EmergencyError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"{ended} sessions ended."))
