"""Writing a backup: the framed, encrypted file of the database dump and the private files, and
the keyring of the data keys."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import secrets
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import psycopg
from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from operations.backups.common import (
    CHUNK_SIZE,
    DATA,
    DATABASE,
    DUMP_PART,
    FILES_PREFIX,
    FINAL,
    FORMAT_VERSION,
    HEADER,
    ID_LENGTH,
    KEYRING,
    KEYRING_PART,
    MAGIC,
    PART_END,
    PART_START,
    PARTIAL_SUFFIX,
    RESTORE_STAGING_PREFIX,
    SUFFIX,
    TIMESTAMP_FORMAT,
    BackupError,
    BackupSummary,
    PartSummary,
    _libpq_environment,
    _qualified_name,
    _read_chunks,
    _server_major_version,
    _tail,
    _tool_major_version,
    backup_directory,
    backup_keys,
    connect,
    database_settings,
    postgres_tool,
)
from operations.backups.reading import verify_backup
from protection.blind_indexes import BlindIndexField
from protection.fields import ProtectedModel


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
