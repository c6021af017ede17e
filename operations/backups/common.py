"""What every part of the backups shares: the file format's constants, the backup keys, and
the connections to PostgreSQL and its client programs."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connections

MAGIC = b"HAVEN-BACKUP\x00\x01"
FORMAT_VERSION = 1
CHUNK_SIZE = 1024 * 1024
# A frame holds at most CHUNK_SIZE bytes of payload; a longer length means a damaged file.
MAX_FRAME_LENGTH = CHUNK_SIZE + 4096
ID_LENGTH = 16
FRAME_PREFIX_LENGTH = ID_LENGTH + 8 + 1

HEADER, PART_START, DATA, PART_END, FINAL = b"H", b"B", b"D", b"E", b"Z"

DATABASE, KEYRING = "database", "keyring"
DUMP_PART = "database.dump"
KEYRING_PART = "keyring.copy"
FILES_PREFIX = "files/"
SUFFIX = ".hvb"
PARTIAL_SUFFIX = ".partial"
RESTORE_STAGING_PREFIX = ".restore-"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"
BACKUP_NAME = re.compile(r"^(database|keyring)-(\d{8}T\d{6}\.\d{6}Z)\.hvb$")
PARTIAL_NAME = re.compile(r"^\.(database|keyring)-(\d{8}T\d{6}\.\d{6}Z)\.hvb\.partial$")
# A run's unfinished file is left alone this long; older ones are left-overs of a crash.
PARTIAL_GRACE = datetime.timedelta(days=1)

# Django's connection options that libpq does not know.
_DJANGO_ONLY_OPTIONS = {"isolation_level", "server_side_binding", "pool", "assume_role"}


class BackupError(Exception):
    """A backup cannot be written, verified or restored; the message says why."""


# --- keys ---------------------------------------------------------------------------------------


def backup_keys() -> list[Fernet]:
    keys = [key.strip() for key in settings.HAVEN_BACKUP_KEYS if key.strip()]
    if not keys:
        raise BackupError(
            "HAVEN_BACKUP_KEYS is not set: backups cannot be written or read. Generate a key "
            "with python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())' and keep it apart from the backups."
        )
    try:
        return [Fernet(key.encode()) for key in keys]
    except ValueError as error:
        raise BackupError(
            "Every key in HAVEN_BACKUP_KEYS must be a 32-byte url-safe base64 Fernet key."
        ) from error


# --- database connections and PostgreSQL programs ----------------------------------------------


def database_settings(alias: str = "default") -> dict[str, Any]:
    """The settings of a configured database (the test database under pytest)."""
    return dict(connections[alias].settings_dict)


def _connection_parameters(database: dict[str, Any]) -> dict[str, str]:
    parameters = {
        "dbname": database.get("NAME") or "",
        "user": database.get("USER") or "",
        "password": database.get("PASSWORD") or "",
        "host": database.get("HOST") or "",
        "port": str(database.get("PORT") or ""),
    }
    for option, value in (database.get("OPTIONS") or {}).items():
        if option not in _DJANGO_ONLY_OPTIONS and value is not None:
            parameters[option] = str(value)
    return {name: value for name, value in parameters.items() if value}


def _libpq_environment(database: dict[str, Any]) -> dict[str, str]:
    """The environment for pg_dump, pg_restore and psql: no password on a command line."""
    names = {
        "dbname": "PGDATABASE",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "host": "PGHOST",
        "port": "PGPORT",
        "sslmode": "PGSSLMODE",
        "sslrootcert": "PGSSLROOTCERT",
        "sslcert": "PGSSLCERT",
        "sslkey": "PGSSLKEY",
        "passfile": "PGPASSFILE",
        "service": "PGSERVICE",
        "connect_timeout": "PGCONNECT_TIMEOUT",
    }
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    for parameter, value in _connection_parameters(database).items():
        if parameter in names:
            environment[names[parameter]] = value
    environment["PGAPPNAME"] = "haven-backup"
    return environment


def connect(database: dict[str, Any]) -> psycopg.Connection:
    try:
        return psycopg.connect(**_connection_parameters(database), autocommit=True)
    except psycopg.Error as error:
        raise BackupError(f"Cannot connect to the database: {error}".strip()) from error


def _server_major_version(connection: psycopg.Connection) -> int:
    return int(connection.execute("SHOW server_version_num").fetchone()[0]) // 10000


_tool_versions: dict[str, int | None] = {}


def _tool_major_version(path: str) -> int | None:
    if path not in _tool_versions:
        try:
            output = subprocess.run(  # noqa: S603 (a PostgreSQL program found by postgres_tool)
                [path, "--version"], capture_output=True, text=True, timeout=30, check=True
            ).stdout
            match = re.search(r"\)\s*(\d+)", output)
            _tool_versions[path] = int(match.group(1)) if match else None
        except (OSError, subprocess.SubprocessError):
            _tool_versions[path] = None
    return _tool_versions[path]


def postgres_tool(name: str, *, server_major: int) -> str:
    """The path of pg_dump, pg_restore or psql, of the server's major version or newer."""
    directories = [
        settings.HAVEN_POSTGRES_BIN_DIR,
        f"/usr/lib/postgresql/{server_major}/bin",
        f"/usr/pgsql-{server_major}/bin",
        f"/opt/homebrew/opt/postgresql@{server_major}/bin",
        f"/usr/local/opt/postgresql@{server_major}/bin",
    ]
    candidates = [str(Path(directory) / name) for directory in directories if directory]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            version = _tool_major_version(candidate)
            if version is not None and version >= server_major:
                return candidate
    raise BackupError(
        f"No {name} for PostgreSQL {server_major} (or newer) was found; the server is "
        f"PostgreSQL {server_major}. Install its client programs (on Debian or Ubuntu: "
        f"apt-get install postgresql-client-{server_major}) or set HAVEN_POSTGRES_BIN_DIR to "
        f"the folder that holds them. Looked at: {', '.join(candidates)}."
    )


# --- shared by writing, reading and restoring -----------------------------------------------


@dataclass
class PartSummary:
    name: str
    size: int
    sha256: str


@dataclass
class BackupSummary:
    """What a verified (or just written) backup holds; never any of its content."""

    path: Path
    kind: str
    created_at: datetime.datetime
    backup_id: str
    header: dict[str, Any]
    parts: list[PartSummary] = field(default_factory=list)
    whole_sha256: str = ""
    file_size: int = 0
    file_sha256: str = ""
    finished_at: datetime.datetime | None = None

    @property
    def file_parts(self) -> list[PartSummary]:
        return [part for part in self.parts if part.name.startswith(FILES_PREFIX)]

    def describe(self) -> list[str]:
        """Lines for an operator: sizes and hashes, nothing from inside the backup."""
        lines = [
            f"{self.path.name}: {self.kind} backup of {self.created_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"{self.file_size} bytes, file SHA-256 {self.file_sha256}",
            f"  content SHA-256 {self.whole_sha256}",
        ]
        for part in self.parts:
            if not part.name.startswith(FILES_PREFIX):
                lines.append(f"  {part.name}: {part.size} bytes, SHA-256 {part.sha256}")
        if self.kind == DATABASE:
            files = self.file_parts
            lines.append(f"  private files: {len(files)}, {sum(part.size for part in files)} bytes")
        if self.kind == KEYRING:
            lines.append(
                f"  data keys: {self.header.get('active_keys', 0)} active, "
                f"{self.header.get('destroyed_keys', 0)} destroyed"
            )
        return lines


def _read_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk


def backup_directory() -> Path:
    return Path(settings.HAVEN_BACKUP_DIR)


def _qualified_name(connection: psycopg.Connection, table: str) -> str:
    """`"schema"."table"` of a table as the database resolves it now."""
    row = connection.execute(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)",
        [table],
    ).fetchone()
    if row is None:
        raise BackupError(f"The table {table} does not exist: is the database migrated?")
    return row[0]


def _tail(stream: IO[bytes], limit: int = 2000) -> str:
    """The error lines of a PostgreSQL program, without the DETAIL/CONTEXT lines that can quote
    row data."""
    stream.seek(0)
    text = stream.read().decode("utf-8", "replace")
    lines = [
        line
        for line in text.splitlines()
        if line.strip() and not re.match(r"^\s*(DETAIL|CONTEXT|LINE \d+|\^)", line.strip())
    ]
    return "\n".join(lines)[-limit:] or "(no message)"
