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

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

import psycopg
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.db import connections
from django.utils import timezone

from protection.blind_indexes import BlindIndexField
from protection.fields import ProtectedModel

logger = logging.getLogger(__name__)

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


# --- writing ------------------------------------------------------------------------------------


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


class _FrameWriter:
    def __init__(self, stream: IO[bytes], fernet: Fernet) -> None:
        self.stream = stream
        self.fernet = fernet
        self.backup_id = secrets.token_bytes(ID_LENGTH)
        self.index = 0
        self.whole = hashlib.sha256()
        self.file_hash = hashlib.sha256()
        self.parts: list[PartSummary] = []
        self._write(MAGIC)

    def _write(self, data: bytes) -> None:
        self.stream.write(data)
        self.file_hash.update(data)

    def frame(self, frame_type: bytes, payload: bytes) -> None:
        plaintext = self.backup_id + self.index.to_bytes(8, "big") + frame_type + payload
        if frame_type != FINAL:
            self.whole.update(plaintext)
        token = base64.urlsafe_b64decode(self.fernet.encrypt(plaintext))
        self._write(len(token).to_bytes(4, "big") + token)
        self.index += 1

    def json_frame(self, frame_type: bytes, content: dict[str, Any]) -> None:
        self.frame(frame_type, json.dumps(content, sort_keys=True).encode())

    def part(self, name: str, chunks: Iterable[bytes]) -> PartSummary:
        self.json_frame(PART_START, {"name": name})
        digest, size = hashlib.sha256(), 0
        for chunk in chunks:
            for start in range(0, len(chunk), CHUNK_SIZE):
                piece = chunk[start : start + CHUNK_SIZE]
                digest.update(piece)
                size += len(piece)
                self.frame(DATA, piece)
        summary = PartSummary(name=name, size=size, sha256=digest.hexdigest())
        self.json_frame(PART_END, summary.__dict__)
        self.parts.append(summary)
        return summary

    def finish(self) -> None:
        self.json_frame(
            FINAL,
            {
                "parts": len(self.parts),
                "frames": self.index,
                "sha256": self.whole.hexdigest(),
                # Later than the dump's snapshot: a keyring written after it lacks no key.
                "finished_at": timezone.now().astimezone(datetime.UTC).isoformat(),
            },
        )


def _read_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk


def backup_directory() -> Path:
    return Path(settings.HAVEN_BACKUP_DIR)


def _timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime(TIMESTAMP_FORMAT)


def _write_backup(
    *,
    kind: str,
    directory: Path,
    created_at: datetime.datetime,
    header: dict[str, Any],
    write_parts: Callable[[_FrameWriter], None],
) -> BackupSummary:
    """Write a backup under a temporary name and give it its final name only once complete."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{kind}-{_timestamp(created_at)}{SUFFIX}"
    final_path = directory / name
    partial_path = directory / f".{name}{PARTIAL_SUFFIX}"
    if final_path.exists():
        raise BackupError(f"{final_path} exists already.")
    header = {
        **header,
        "format": FORMAT_VERSION,
        "kind": kind,
        "created_at": created_at.astimezone(datetime.UTC).isoformat(),
    }
    descriptor = os.open(partial_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            writer = _FrameWriter(stream, backup_keys()[0])
            writer.json_frame(HEADER, header)
            write_parts(writer)
            writer.finish()
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial_path, final_path)
    except BaseException:
        partial_path.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)
    return BackupSummary(
        path=final_path,
        kind=kind,
        created_at=created_at,
        backup_id=writer.backup_id.hex(),
        header=header,
        parts=writer.parts,
        whole_sha256=writer.whole.hexdigest(),
        file_size=final_path.stat().st_size,
        file_sha256=writer.file_hash.hexdigest(),
    )


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _data_key_table() -> tuple[str, list[str]]:
    data_key = apps.get_model("protection", "DataKey")
    return data_key._meta.db_table, [field.column for field in data_key._meta.concrete_fields]


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


def _source_identity(connection: psycopg.Connection) -> dict[str, Any]:
    """Which database a backup comes from, so that a keyring is never joined to another's dump."""
    identity: dict[str, Any] = {
        "database": connection.execute("SELECT current_database()").fetchone()[0],
        "system_identifier": None,
    }
    try:
        row = connection.execute("SELECT system_identifier FROM pg_control_system()").fetchone()
        identity["system_identifier"] = str(row[0])
    except psycopg.Error:
        pass  # not granted to this role: the database name alone must do
    return identity


def _data_key_references(connection: psycopg.Connection, qualified_table: str) -> list[list[str]]:
    """The (table, column) pairs whose foreign keys point at the data-key table."""
    rows = connection.execute(
        """
        SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(a.attname)
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
        WHERE k.contype = 'f' AND k.confrelid = to_regclass(%s)
        ORDER BY 1, 2
        """,
        [qualified_table],
    ).fetchall()
    return [list(row) for row in rows]


def _blind_index_columns(connection: psycopg.Connection) -> list[dict[str, Any]]:
    """The blind-index columns to blank in rows whose data key is destroyed, as
    destroy_data_key does (protection/erasure.py)."""
    tables = []
    for model in apps.get_models():
        if not issubclass(model, ProtectedModel) or model._meta.proxy:
            continue
        columns = [
            field.column
            for field in model._meta.concrete_fields
            if isinstance(field, BlindIndexField)
        ]
        if columns:
            tables.append(
                {
                    "table": _qualified_name(connection, model._meta.db_table),
                    "data_key_column": model._meta.get_field("data_key").column,
                    "columns": columns,
                }
            )
    return tables


def _private_files(root: Path, excluded: list[Path]) -> Iterator[tuple[str, Path]]:
    """Every regular file under the private files root, by relative POSIX name, in order."""
    if not root.is_dir():
        return
    excluded_resolved = [path.resolve() for path in excluded]
    for directory, subdirectories, files in os.walk(root):
        current = Path(directory)
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if not name.startswith(RESTORE_STAGING_PREFIX)
            and (current / name).resolve() not in excluded_resolved
            and not (current / name).is_symlink()
        )
        for name in sorted(files):
            path = current / name
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path


def backup_database(
    *,
    directory: Path | None = None,
    database: dict[str, Any] | None = None,
    files_root: Path | None = None,
    now: datetime.datetime | None = None,
) -> BackupSummary:
    """Dump the database (without the data keys) and the private files into one backup."""
    directory = directory or backup_directory()
    database = database or database_settings()
    files_root = Path(files_root or settings.MEDIA_ROOT)
    created_at = now or timezone.now()
    backup_keys()
    data_key_table, _columns = _data_key_table()
    with connect(database) as connection:
        server_major = _server_major_version(connection)
        qualified_keys = _qualified_name(connection, data_key_table)
        header = {
            "source": _source_identity(connection),
            "server_version": server_major,
            "data_key_table": qualified_keys,
            "data_key_references": _data_key_references(connection, qualified_keys),
            "blind_indexes": _blind_index_columns(connection),
        }
    pg_dump = postgres_tool("pg_dump", server_major=server_major)
    header["pg_dump_version"] = _tool_major_version(pg_dump)

    def write_parts(writer: _FrameWriter) -> None:
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(  # noqa: S603 (fixed arguments; no shell)
                [
                    pg_dump,
                    "--format=custom",
                    "--no-password",
                    f"--exclude-table-data={qualified_keys}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_libpq_environment(database),
            )
            try:
                writer.part(DUMP_PART, _read_chunks(process.stdout))
            finally:
                process.stdout.close()
                returncode = process.wait()
            if returncode != 0:
                raise BackupError(f"pg_dump failed: {_tail(errors)}")
        for relative, path in _private_files(files_root, excluded=[directory]):
            try:
                stream = path.open("rb")
            except FileNotFoundError:
                continue  # deleted since it was listed
            with stream:
                writer.part(FILES_PREFIX + relative, _read_chunks(stream))

    return _write_backup(
        kind=DATABASE,
        directory=directory,
        created_at=created_at,
        header=header,
        write_parts=write_parts,
    )


def backup_keyring(
    *,
    directory: Path | None = None,
    database: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> BackupSummary:
    """Write the data-key rows as they are now: a destroyed key is blank in it."""
    directory = directory or backup_directory()
    database = database or database_settings()
    created_at = now or timezone.now()
    backup_keys()
    data_key_table, columns = _data_key_table()
    with connect(database) as connection:
        qualified_keys = _qualified_name(connection, data_key_table)
        column_list = ", ".join(f'"{column}"' for column in columns)
        with connection.transaction():
            # One snapshot for the counts and the rows.
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # The table is our model's, its name quoted by PostgreSQL (_qualified_name).
            active, destroyed = connection.execute(
                f"SELECT count(*) FILTER (WHERE wrapped_key IS NOT NULL), "  # noqa: S608  # nosec B608
                f"count(*) FILTER (WHERE wrapped_key IS NULL) FROM {qualified_keys}"
            ).fetchone()
            header = {
                "source": _source_identity(connection),
                "data_key_table": qualified_keys,
                "columns": columns,
                "active_keys": active,
                "destroyed_keys": destroyed,
            }
            rows = bytearray()
            with connection.cursor().copy(
                f"COPY (SELECT {column_list} FROM {qualified_keys} ORDER BY id) TO STDOUT"  # noqa: S608
            ) as copy:
                for data in copy:
                    rows += data

    def write_parts(writer: _FrameWriter) -> None:
        writer.part(KEYRING_PART, [bytes(rows)])

    return _write_backup(
        kind=KEYRING,
        directory=directory,
        created_at=created_at,
        header=header,
        write_parts=write_parts,
    )


def backup_all(
    *,
    directory: Path | None = None,
    database: dict[str, Any] | None = None,
    files_root: Path | None = None,
) -> list[BackupSummary]:
    """The database backup, then the keyring (never older than the dump), both verified."""
    written = [
        backup_database(directory=directory, database=database, files_root=files_root),
        backup_keyring(directory=directory, database=database),
    ]
    for summary in written:
        verify_backup(summary.path)
    return written


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


# --- reading and verifying -------------------------------------------------------------------


@dataclass
class PartStart:
    name: str


class _Reader:
    """Reads a backup frame by frame, authenticating each, and raises BackupError on any
    damage, truncation, reordering or splicing."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.keys = backup_keys()
        self.fernet: Fernet | None = None
        self.backup_id: bytes | None = None
        self.header: dict[str, Any] = {}
        self.parts: list[PartSummary] = []
        self.whole = hashlib.sha256()
        self.file_hash = hashlib.sha256()
        self.file_size = 0
        self.final: dict[str, Any] = {}

    def _damaged(self, why: str) -> BackupError:
        return BackupError(f"{self.path.name} is damaged or was altered: {why}. Nothing was used.")

    def _read_exactly(self, stream: IO[bytes], count: int) -> bytes:
        data = stream.read(count)
        self.file_hash.update(data)
        self.file_size += len(data)
        return data

    def _open(self, token: bytes, index: int) -> bytes:
        encoded = base64.urlsafe_b64encode(token)
        if self.fernet is None:
            for key in self.keys:
                try:
                    plaintext = key.decrypt(encoded)
                except InvalidToken:
                    continue
                self.fernet = key
                return plaintext
            raise BackupError(
                f"No key in HAVEN_BACKUP_KEYS opens {self.path.name}: it was written with "
                "another key, or it is damaged. Nothing was used."
            )
        try:
            return self.fernet.decrypt(encoded)
        except InvalidToken:
            raise self._damaged(f"frame {index} fails its authentication check") from None

    def frames(self) -> Iterator[tuple[bytes, bytes]]:
        try:
            stream = self.path.open("rb")
        except OSError as error:
            raise BackupError(f"Cannot open {self.path}: {error.strerror}.") from error
        with stream:
            if self._read_exactly(stream, len(MAGIC)) != MAGIC:
                raise BackupError(f"{self.path.name} is not a Haven backup file.")
            index = 0
            while True:
                length_bytes = self._read_exactly(stream, 4)
                if not length_bytes:
                    raise self._damaged("it ends before its final frame (truncated)")
                if len(length_bytes) < 4:
                    raise self._damaged("it ends in the middle of a frame (truncated)")
                length = int.from_bytes(length_bytes, "big")
                if not 0 < length <= MAX_FRAME_LENGTH:
                    raise self._damaged(f"frame {index} has an impossible length")
                token = self._read_exactly(stream, length)
                if len(token) < length:
                    raise self._damaged("it ends in the middle of a frame (truncated)")
                plaintext = self._open(token, index)
                if len(plaintext) < FRAME_PREFIX_LENGTH:
                    raise self._damaged(f"frame {index} is malformed")
                backup_id = plaintext[:ID_LENGTH]
                frame_index = int.from_bytes(plaintext[ID_LENGTH : ID_LENGTH + 8], "big")
                frame_type = plaintext[ID_LENGTH + 8 : FRAME_PREFIX_LENGTH]
                if self.backup_id is None:
                    self.backup_id = backup_id
                elif backup_id != self.backup_id:
                    raise self._damaged(f"frame {index} belongs to another backup")
                if frame_index != index:
                    raise self._damaged(
                        f"frames are missing or out of order (frame {index} is numbered "
                        f"{frame_index})"
                    )
                if frame_type != FINAL:
                    self.whole.update(plaintext)
                yield frame_type, plaintext[FRAME_PREFIX_LENGTH:]
                index += 1
                if frame_type == FINAL:
                    if self._read_exactly(stream, 1):
                        raise self._damaged("there is data after its final frame")
                    return

    def events(self) -> Iterator[PartStart | bytes | PartSummary]:
        """PartStart, the part's data chunks, then its PartSummary, part after part; the
        header is in self.header once the first event is out. Exhaust it: the last checks
        happen at the end."""
        current: PartStart | None = None
        digest, size = hashlib.sha256(), 0
        expect_header = True
        for frame_type, payload in self.frames():
            if expect_header:
                if frame_type != HEADER:
                    raise self._damaged("it does not start with a header")
                self.header = self._json(payload)
                if self.header.get("format") != FORMAT_VERSION:
                    raise BackupError(
                        f"{self.path.name} has format {self.header.get('format')}, which this "
                        "version of Haven cannot read."
                    )
                expect_header = False
            elif frame_type == PART_START and current is None:
                current = PartStart(name=str(self._json(payload).get("name", "")))
                digest, size = hashlib.sha256(), 0
                yield current
            elif frame_type == DATA and current is not None:
                digest.update(payload)
                size += len(payload)
                yield payload
            elif frame_type == PART_END and current is not None:
                recorded = self._json(payload)
                summary = PartSummary(name=current.name, size=size, sha256=digest.hexdigest())
                if recorded != summary.__dict__:
                    raise self._damaged(f"the part {current.name} fails its SHA-256 check")
                self.parts.append(summary)
                current = None
                yield summary
            elif frame_type == FINAL and current is None:
                self.final = self._json(payload)
                if self.final.get("sha256") != self.whole.hexdigest():
                    raise self._damaged("its content fails the SHA-256 check of the whole")
                if self.final.get("parts") != len(self.parts):
                    raise self._damaged("parts are missing")
            else:
                raise self._damaged("its frames are not in the expected order")
        if not self.final:
            raise self._damaged("it ends before its final frame (truncated)")

    def _json(self, payload: bytes) -> dict[str, Any]:
        try:
            content = json.loads(payload)
        except ValueError:
            raise self._damaged("a control frame is malformed") from None
        if not isinstance(content, dict):
            raise self._damaged("a control frame is malformed")
        return content

    def read_header(self) -> dict[str, Any]:
        """Only the (authenticated) header, for choosing a keyring."""
        for frame_type, payload in self.frames():
            if frame_type != HEADER:
                raise self._damaged("it does not start with a header")
            return self._json(payload)
        raise self._damaged("it has no header")

    def summary(self) -> BackupSummary:
        return BackupSummary(
            path=self.path,
            kind=str(self.header.get("kind")),
            created_at=_parse_time(self.header.get("created_at")),
            backup_id=(self.backup_id or b"").hex(),
            header=self.header,
            parts=self.parts,
            whole_sha256=self.whole.hexdigest(),
            file_size=self.file_size,
            file_sha256=self.file_hash.hexdigest(),
            finished_at=(
                _parse_time(self.final["finished_at"]) if "finished_at" in self.final else None
            ),
        )


def _parse_time(value: Any) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)


def verify_backup(path: Path) -> BackupSummary:
    """Check a backup completely (every frame, every part's SHA-256, the whole) and restore
    nothing. Raises BackupError with the reason when it is not intact."""
    reader = _Reader(Path(path))
    for _event in reader.events():
        pass
    summary = reader.summary()
    if summary.kind not in (DATABASE, KEYRING):
        raise BackupError(f"{reader.path.name} is neither a database backup nor a keyring.")
    expected_parts = {DATABASE: DUMP_PART, KEYRING: KEYRING_PART}[summary.kind]
    if not summary.parts or summary.parts[0].name != expected_parts:
        raise BackupError(f"{reader.path.name} lacks its {expected_parts} part.")
    return summary


# --- restoring ----------------------------------------------------------------------------------


@dataclass
class RestoreSummary:
    database_backup: BackupSummary
    keyring: BackupSummary
    files: int
    missing_keys: int

    def describe(self) -> list[str]:
        return [
            f"Restored {self.database_backup.path.name} with {self.keyring.path.name}.",
            f"  private files: {self.files}",
            f"  data keys: {self.keyring.header.get('active_keys', 0)} active, "
            f"{self.keyring.header.get('destroyed_keys', 0)} destroyed in the keyring",
            f"  data keys referenced by the dump but absent from the keyring (kept as "
            f"destroyed): {self.missing_keys}",
        ]


def database_is_empty(connection: psycopg.Connection) -> bool:
    """True when the database has no table, view or sequence of its own (extensions aside)."""
    row = connection.execute(
        """
        SELECT count(*) FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
          AND NOT EXISTS (
            SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
            AND d.objid = c.oid AND d.deptype = 'e')
        """
    ).fetchone()
    return row[0] == 0


def choose_keyring(database_backup: BackupSummary, directory: Path | None = None) -> Path:
    """The newest keyring of the same database beside the database backup or in the backup
    folder (the restore then refuses it if it is older than the database backup)."""
    directory = directory or backup_directory()
    candidates = sorted(
        {
            path
            for folder in (database_backup.path.parent, directory)
            for path in folder.glob(f"keyring-*{SUFFIX}")
            if BACKUP_NAME.match(path.name)
        },
        key=lambda path: path.name,
        reverse=True,
    )
    for path in candidates:
        try:
            header = _Reader(path).read_header()
        except BackupError:
            continue
        if header.get("kind") == KEYRING and header.get("source") == database_backup.header.get(
            "source"
        ):
            return path
    raise BackupError(
        f"No keyring of this database was found in {directory}: give one with --keyring."
    )


def _keyring_rows(keyring: Path) -> tuple[BackupSummary, bytes]:
    reader = _Reader(keyring)
    rows = bytearray()
    for event in reader.events():
        if isinstance(event, bytes):
            rows += event
    summary = reader.summary()
    if summary.kind != KEYRING or [part.name for part in summary.parts] != [KEYRING_PART]:
        raise BackupError(f"{keyring.name} is not a keyring backup.")
    return summary, bytes(rows)


def _safe_relative_path(name: str) -> PurePosixPath:
    relative = PurePosixPath(name.removeprefix(FILES_PREFIX))
    if (
        not name.startswith(FILES_PREFIX)
        or relative.is_absolute()
        or not relative.parts
        or any(part in ("", ".", "..") for part in relative.parts)
        or relative.parts[0].startswith(RESTORE_STAGING_PREFIX)
    ):
        raise BackupError(f"The backup holds a file with an unsafe name ({name!r}).")
    return relative


def _stage_and_verify(path: Path, staging: Path, files_root: Path) -> BackupSummary:
    """Verify the whole backup, writing its private files into the staging folder."""
    reader = _Reader(path)
    output: IO[bytes] | None = None
    try:
        for event in reader.events():
            if isinstance(event, PartStart) and event.name.startswith(FILES_PREFIX):
                target = staging / _safe_relative_path(event.name)
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                output = os.fdopen(
                    os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb"
                )
            elif isinstance(event, bytes) and output is not None:
                output.write(event)
            elif isinstance(event, PartSummary) and output is not None:
                output.close()
                output = None
    finally:
        if output is not None:
            output.close()
    summary = reader.summary()
    if summary.kind != DATABASE or not summary.parts or summary.parts[0].name != DUMP_PART:
        raise BackupError(f"{path.name} is not a database backup.")
    for part in summary.file_parts:
        existing = files_root / _safe_relative_path(part.name)
        if existing.exists() and _file_sha256(existing) != part.sha256:
            raise BackupError(
                f"A different file exists already at {existing}: restore into an empty "
                "private files folder. Nothing was restored."
            )
    return summary


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in _read_chunks(stream):
            digest.update(chunk)
    return digest.hexdigest()


def _feed_dump(path: Path, backup_id: str, process: subprocess.Popen) -> None:
    """Stream the (already verified) dump part of a backup into pg_restore's input."""
    reader = _Reader(path)
    in_dump = False
    try:
        for event in reader.events():
            if reader.backup_id is not None and reader.backup_id.hex() != backup_id:
                raise BackupError(f"{path.name} changed during the restore.")
            if isinstance(event, PartStart):
                in_dump = event.name == DUMP_PART
            elif isinstance(event, bytes) and in_dump:
                try:
                    process.stdin.write(event)
                except BrokenPipeError:
                    break  # pg_restore has read what it needs (the file was verified before)
            elif isinstance(event, PartSummary) and event.name == DUMP_PART:
                break
    finally:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()


def _restore_sql(database_backup: BackupSummary, keyring: BackupSummary, rows: bytes) -> bytes:
    """SQL run between the data and the constraints: the keyring rows, the keys the keyring
    lacks (as destroyed), blank blind indexes under destroyed keys, the key sequence.

    The table and column names come from the backup's authenticated header, quoted by
    PostgreSQL (quote_ident) or Django's model metadata when the backup was written.
    """
    table = database_backup.header["data_key_table"]
    columns = ", ".join(f'"{column}"' for column in keyring.header["columns"])
    statements = [f"COPY {table} ({columns}) FROM stdin;\n".encode(), rows, b"\\.\n"]
    for referencing_table, column in database_backup.header.get("data_key_references", []):
        statements.append(
            f"INSERT INTO {table} (id, purpose, wrapped_key, created_at, destroyed_at) "  # noqa: S608
            f"SELECT DISTINCT r.{column}, 'absent from keyring', NULL::bytea, now(), now() "
            f"FROM {referencing_table} r WHERE r.{column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {table} k WHERE k.id = r.{column});\n".encode()
        )
    for entry in database_backup.header.get("blind_indexes", []):
        assignments = ", ".join(f"\"{column}\" = ''" for column in entry["columns"])
        statements.append(
            f'UPDATE {entry["table"]} SET {assignments} WHERE "{entry["data_key_column"]}" '  # noqa: S608
            f"IN (SELECT id FROM {table} WHERE wrapped_key IS NULL);\n".encode()
        )
    statements.append(
        f"""DO $haven$ DECLARE
  sequence_name text := pg_catalog.pg_get_serial_sequence('{table}', 'id');
  top bigint;
BEGIN
  SELECT max(id) INTO top FROM {table};
  IF sequence_name IS NOT NULL AND top IS NOT NULL THEN
    EXECUTE pg_catalog.format(
      'SELECT pg_catalog.setval(%L, GREATEST(%s, (SELECT last_value FROM %s)))',
      sequence_name, top, sequence_name);
  END IF;
END $haven$;
""".encode()  # noqa: S608
    )
    return b"".join(statements)


def restore_backup(
    path: Path,
    *,
    keyring_path: Path | None = None,
    database: dict[str, Any] | None = None,
    files_root: Path | None = None,
    directory: Path | None = None,
) -> RestoreSummary:
    """Restore a database backup, with a keyring not older than it, into an empty database,
    and its private files. All or nothing: the database is restored in one transaction, which
    commits only after every check has passed and the files are in place."""
    path = Path(path)
    database = database or database_settings()
    files_root = Path(files_root or settings.MEDIA_ROOT)
    with connect(database) as connection:
        if not database_is_empty(connection):
            raise BackupError(
                f"The database {database.get('NAME')} is not empty: restore only into an empty "
                "database (create a new one, or drop and re-create this one). Nothing was "
                "restored."
            )
        server_major = _server_major_version(connection)
    pg_restore = postgres_tool("pg_restore", server_major=server_major)
    psql = postgres_tool("psql", server_major=server_major)

    files_root.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=RESTORE_STAGING_PREFIX, dir=files_root))
    moved: list[Path] = []
    try:
        database_backup = _stage_and_verify(path, staging, files_root)
        dump_version = database_backup.header.get("pg_dump_version") or 0
        if (_tool_major_version(pg_restore) or 0) < dump_version:
            raise BackupError(
                f"The backup was written by pg_dump {dump_version}; {pg_restore} is older and "
                "cannot read it. Set HAVEN_POSTGRES_BIN_DIR to newer client programs."
            )
        keyring_path = (
            Path(keyring_path) if keyring_path else choose_keyring(database_backup, directory)
        )
        keyring, rows = _keyring_rows(keyring_path)
        if keyring.header.get("source") != database_backup.header.get("source"):
            raise BackupError(
                f"{keyring_path.name} is the keyring of another database than "
                f"{path.name}. Nothing was restored."
            )
        if keyring.created_at < (database_backup.finished_at or database_backup.created_at):
            raise BackupError(
                f"{keyring_path.name} is older than {path.name}: it lacks the keys of cases "
                "taken in between. Use a keyring written at the same time or later. Nothing "
                "was restored."
            )
        _run_restore(
            path=path,
            database_backup=database_backup,
            sql=_restore_sql(database_backup, keyring, rows),
            database=database,
            pg_restore=pg_restore,
            psql=psql,
            before_commit=lambda: moved.extend(_move_files(staging, files_root)),
        )
    except BaseException:
        for target in moved:
            target.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with connect(database) as connection:
        # The name comes from the backup's authenticated header, and is resolved and quoted by
        # PostgreSQL (quote_ident) before it is put into the statement.
        data_keys = _qualified_name(connection, database_backup.header["data_key_table"])
        missing = connection.execute(
            f"SELECT count(*) FROM {data_keys} "  # noqa: S608  # nosec B608
            "WHERE purpose = 'absent from keyring'"
        ).fetchone()[0]
    logger.info(
        "Backup restored.",
        extra={"backup": path.name, "keyring": keyring_path.name, "files": len(moved)},
    )
    return RestoreSummary(
        database_backup=database_backup, keyring=keyring, files=len(moved), missing_keys=missing
    )


def _move_files(staging: Path, files_root: Path) -> list[Path]:
    moved = []
    for source in sorted(path for path in staging.rglob("*") if path.is_file()):
        target = files_root / source.relative_to(staging)
        if target.exists():
            continue  # the same content (checked before)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(source, target)
        moved.append(target)
    return moved


def _run_restore(
    *,
    path: Path,
    database_backup: BackupSummary,
    sql: bytes,
    database: dict[str, Any],
    pg_restore: str,
    psql: str,
    before_commit: Callable[[], None],
) -> None:
    """pg_restore writes SQL for each section, our SQL goes in between, and psql runs it all in
    one transaction, which is committed only by the COMMIT written last."""
    environment = _libpq_environment(database)
    with tempfile.TemporaryFile() as psql_errors, tempfile.TemporaryFile() as restore_errors:
        client = subprocess.Popen(  # noqa: S603 (fixed arguments; no shell)
            [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--no-password"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=environment,
        )
        committed = False
        try:
            client.stdin.write(b"BEGIN;\n")
            for section in ("pre-data", "data", "post-data"):
                if section == "post-data":
                    client.stdin.write(sql)
                client.stdin.flush()
                restore = subprocess.Popen(  # noqa: S603 (fixed arguments; no shell)
                    [
                        pg_restore,
                        f"--section={section}",
                        "--no-owner",
                        "--no-privileges",
                        "--no-comments",
                        "--file=-",
                    ],
                    stdin=subprocess.PIPE,
                    stdout=client.stdin,
                    stderr=restore_errors,
                    env=environment,
                )
                try:
                    _feed_dump(path, database_backup.backup_id, restore)
                finally:
                    returncode = restore.wait()
                if returncode == -signal.SIGPIPE or client.poll() is not None:
                    break  # psql stopped at an error; its message follows
                if returncode != 0:
                    raise BackupError(
                        f"pg_restore could not read the dump ({section}), and nothing was "
                        f"restored: {_tail(restore_errors)}"
                    )
            if client.poll() is None:
                before_commit()
                client.stdin.write(b"COMMIT;\n")
                client.stdin.close()
                committed = client.wait() == 0
        except BrokenPipeError:
            pass  # psql stopped at an error; its message follows
        finally:
            if not committed and client.poll() is None:
                # Without a COMMIT the transaction is rolled back when psql's connection ends.
                client.kill()
                client.wait()
        if not committed:
            raise BackupError(
                f"The database could not be restored, and nothing was kept: {_tail(psql_errors)}"
            )


# --- retention ----------------------------------------------------------------------------------


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
