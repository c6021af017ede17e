"""Encrypted, integrity-checked backups of the database and the private files, with the keyring.

A backup run writes two files into HAVEN_BACKUP_DIR:

- `database-<UTC time>.hvb`: a `pg_dump --format=custom` of the database *without the rows of
  the data-key table*, followed by every private file (the encrypted evidence);
- `keyring-<UTC time>.hvb`: the data-key rows (each key still wrapped by HAVEN_FIELD_KEYS).

Keyrings are kept for a short time (HAVEN_KEYRING_RETENTION_DAYS) and database backups for a
long one (HAVEN_BACKUP_RETENTION_DAYS). A restore joins a database backup with a keyring that is
not older than it; a data key destroyed (crypto-erased) before that keyring was written is blank
in it, so the erased case stays unreadable. Once every keyring written before an erasure has
expired, no backup anywhere can reveal the erased case.

The file format is a sequence of frames, each a 4-byte big-endian length and a Fernet token
(HAVEN_BACKUP_KEYS; stored as raw bytes, not base64). Each frame's plaintext starts with the
backup's random id and the frame's index, so frames cannot be dropped, reordered or spliced
from another backup; a part (the dump, a file, the keyring) is framed by a start and an end
frame carrying its size and SHA-256, and the last frame carries the SHA-256 of everything
before it. A backup without its last frame is truncated, and is refused.
"""

from operations.backups.common import (
    MAGIC,
    TIMESTAMP_FORMAT,
    BackupError,
    _connection_parameters,
    connect,
    database_settings,
)
from operations.backups.reading import verify_backup
from operations.backups.restoring import (
    _keyring_rows,
    choose_keyring,
    database_is_empty,
    restore_backup,
)
from operations.backups.retention import prune_backups, stored_backups
from operations.backups.writing import backup_all, backup_database, backup_keyring

__all__ = [
    "MAGIC",
    "TIMESTAMP_FORMAT",
    "BackupError",
    "_connection_parameters",
    "_keyring_rows",
    "backup_all",
    "backup_database",
    "backup_keyring",
    "choose_keyring",
    "connect",
    "database_is_empty",
    "database_settings",
    "prune_backups",
    "restore_backup",
    "stored_backups",
    "verify_backup",
]
