"""Recovery: add an administrator on the server's command line when fewer than two are active,
so that nobody is left to approve a request for another (see docs/administration.md). Refused
while two or more administrators are active: they use requests in the browser. Written to the
access log with the operating-system user.

    manage.py add_administrator USERNAME [--first-name NAME] [--last-name NAME]
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import staff_requests
from accounts.management.commands.emergency_lock import operating_system_user
from accounts.setup_links import setup_link_url


class Command(BaseCommand):
    help = "Add an administrator when fewer than two are active (recovery)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            token = staff_requests.administrator_add_from_command_line(
                username=options["username"],
                command_line_user=operating_system_user(),
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except staff_requests.StaffRequestError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"{options['username']} is an administrator."))
        if token:
            self.stdout.write(
                f"Set your password with this one-time link (it works once, "
                f"{settings.HAVEN_SETUP_LINK_MINUTES} minutes): {setup_link_url(token)}"
            )
        self.stdout.write(
            f"A new role counts for four-eyes steps after {settings.HAVEN_ROLE_COOLING_HOURS} "
            "hours."
        )
