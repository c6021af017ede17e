"""Restoring a database backup, with a keyring not older than it, into an empty database."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

import psycopg
from django.conf import settings

from operations.backups.common import (
    BACKUP_NAME,
    DATABASE,
    DUMP_PART,
    FILES_PREFIX,
    KEYRING,
    KEYRING_PART,
    RESTORE_STAGING_PREFIX,
    SUFFIX,
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
    connect,
    database_settings,
    postgres_tool,
)
from operations.backups.reading import PartStart, _Reader

logger = logging.getLogger(__name__)


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
