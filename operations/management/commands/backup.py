"""Writes an encrypted backup of the database and the private files, and a keyring; or checks
one (`--verify FILE`). See operations/backups/ and docs/backups.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations import backups


class Command(BaseCommand):
    help = (
        "Write an encrypted backup of the database and the private files into HAVEN_BACKUP_DIR, "
        "and a keyring (the wrapped data keys) beside it; with --verify FILE, check a backup "
        "without restoring anything."
    )
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--verify",
            metavar="FILE",
            nargs="+",
            help="Check these backup or keyring files completely; restore nothing.",
        )
        parser.add_argument(
            "--keyring-only",
            action="store_true",
            help="Write only a keyring (e.g. right after an erasure).",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Afterwards, delete backups and keyrings older than their retention.",
        )

    def handle(
        self, *args: Any, verify: list[str] | None, keyring_only: bool, prune: bool, **options
    ) -> None:
        try:
            if verify:
                self._verify(verify)
                return
            if keyring_only:
                written = [backups.backup_keyring()]
                backups.verify_backup(written[0].path)
            else:
                written = backups.backup_all()
            for summary in written:
                self.stdout.write(f"Wrote {summary.path}")
                for line in summary.describe():
                    self.stdout.write(f"  {line}")
            if prune:
                for path in backups.prune_backups():
                    self.stdout.write(f"Deleted (past retention) {path.name}")
        except backups.BackupError as error:
            raise CommandError(str(error)) from error

    def _verify(self, files: list[str]) -> None:
        failures = 0
        for name in files:
            try:
                summary = backups.verify_backup(Path(name))
            except backups.BackupError as error:
                failures += 1
                self.stderr.write(f"NOT INTACT: {error}")
                continue
            self.stdout.write(self.style.SUCCESS(f"Intact: {summary.describe()[0]}"))
            for line in summary.describe()[1:]:
                self.stdout.write(line)
        if failures:
            raise CommandError(f"{failures} of {len(files)} files failed the check.")
