"""Set up a fresh installation with its first two administrators, on the server's command line
(see docs/administration.md). Each gets a one-time link to set their own password; then they log
in and enrol their authenticator app. Refused once any administrator exists.

    manage.py setup_administrators FIRST SECOND
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import staff_requests
from accounts.management.commands.emergency_lock import operating_system_user
from accounts.setup_links import setup_link_url


class Command(BaseCommand):
    help = "Create a fresh installation's first two administrators (refused once any exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("usernames", nargs=2, metavar="USERNAME")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tokens = staff_requests.administrators_set_up(
                usernames=options["usernames"], command_line_user=operating_system_user()
            )
        except staff_requests.StaffRequestError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS("Two administrators created."))
        for username, token in tokens.items():
            self.stdout.write(
                f"{username}: set your password with this one-time link (it works once, "
                f"{settings.HAVEN_SETUP_LINK_MINUTES} minutes): {setup_link_url(token)}"
            )
