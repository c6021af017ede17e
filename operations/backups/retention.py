"""Which backups are kept, and deleting those past their retention."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from operations.backups.common import (
    BACKUP_NAME,
    DATABASE,
    KEYRING,
    PARTIAL_GRACE,
    PARTIAL_NAME,
    TIMESTAMP_FORMAT,
    backup_directory,
)


@dataclass(frozen=True)
class StoredBackup:
    path: Path
    kind: str
    created_at: datetime.datetime


def stored_backups(directory: Path | None = None) -> list[StoredBackup]:
    """The finished backups in the folder, by their names (oldest first)."""
    directory = directory or backup_directory()
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = BACKUP_NAME.match(path.name)
        if match and path.is_file():
            created_at = datetime.datetime.strptime(match.group(2), TIMESTAMP_FORMAT).replace(
                tzinfo=datetime.UTC
            )
            found.append(StoredBackup(path=path, kind=match.group(1), created_at=created_at))
    return sorted(found, key=lambda backup: (backup.kind, backup.created_at))


def prune_backups(
    *,
    directory: Path | None = None,
    now: datetime.datetime | None = None,
    database_days: int | None = None,
    keyring_days: int | None = None,
) -> list[Path]:
    """Delete database backups and keyrings older than their retention, and left-over partial
    files; the newest of each kind always stays. Only files named as Haven names them."""
    directory = directory or backup_directory()
    now = now or timezone.now()
    retention = {
        DATABASE: datetime.timedelta(
            days=settings.HAVEN_BACKUP_RETENTION_DAYS if database_days is None else database_days
        ),
        KEYRING: datetime.timedelta(
            days=settings.HAVEN_KEYRING_RETENTION_DAYS if keyring_days is None else keyring_days
        ),
    }
    backups = stored_backups(directory)
    deleted = []
    for kind, keep_for in retention.items():
        of_kind = [backup for backup in backups if backup.kind == kind]
        for backup in of_kind[:-1]:  # the newest stays whatever its age
            if backup.created_at < now - keep_for:
                backup.path.unlink(missing_ok=True)
                deleted.append(backup.path)
    if directory.is_dir():
        for path in directory.iterdir():
            match = PARTIAL_NAME.match(path.name)
            if match:
                started = datetime.datetime.strptime(match.group(2), TIMESTAMP_FORMAT).replace(
                    tzinfo=datetime.UTC
                )
                if started < now - PARTIAL_GRACE:
                    path.unlink(missing_ok=True)
                    deleted.append(path)
    return deleted
