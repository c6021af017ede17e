"""Backups: a restore gives back every row and file, damage is refused, erasure reaches old
backups through the short-lived keyrings, and the nightly task is scheduled."""

from __future__ import annotations

import datetime
import io
import logging
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.roles import Role
from cases import services as case_services
from housing.services import Occupant, allocation_create
from operations import backups
from operations.tasks import backup_nightly
from payments.services import disbursement_run, month_of
from protection.erasure import destroy_data_key
from protection.keys import unwrap_key
from tests.factories import (
    BedFactory,
    CaseFactory,
    FamilyMemberFactory,
    StipendPlanFactory,
    VerifiedCaseFactory,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"fictional evidence pixels " * 40
# Transactional tests: pg_dump runs in another process and sees only committed data.
# serialized_rollback restores the roles that the data migrations made, after each flush.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="module")
def intact_backup(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
    """One backup of the committed test database (with one private file), shared by the tests
    that only read it."""
    folder = tmp_path_factory.mktemp("intact")
    private = folder / "private"
    (private / "evidence").mkdir(parents=True)
    (private / "evidence" / "sample.bin").write_bytes(b"encrypted evidence stand-in")
    with django_db_blocker.unblock():
        database = backups.backup_database(directory=folder / "backups", files_root=private)
        keyring = backups.backup_keyring(directory=folder / "backups")
    return {"database": database.path, "keyring": keyring.path}


def table_contents(database: dict) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every table, and every sequence's position."""
    contents: dict[str, tuple[int, str]] = {}
    with backups.connect(database) as connection:
        tables = connection.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            every_row = f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {table} t"  # noqa: E501, S608
            contents[table] = connection.execute(every_row).fetchone()
        for name, last_value in connection.execute(
            "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences"
        ).fetchall():
            contents[f"sequence {name}"] = (last_value or 0, "")
    return contents


def files_under(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def read_protected(database: dict, table: str, column: str, pk: int) -> str | None:
    """A protected value of a restored database, decrypted as Haven would; None if erased."""
    with backups.connect(database) as connection:
        stored = connection.execute(
            f"SELECT {column} FROM {table} WHERE id = %s",  # noqa: S608
            [pk],
        ).fetchone()[0]
        key_id = int(stored.split(":")[1])
        wrapped = connection.execute(
            "SELECT wrapped_key FROM accounts_datakey WHERE id = %s", [key_id]
        ).fetchone()[0]
    if wrapped is None:
        return None
    return Fernet(unwrap_key(bytes(wrapped))).decrypt(stored.rsplit(":", 1)[1].encode()).decode()


def frames_of(path: Path) -> tuple[bytes, list[bytes]]:
    """The file's magic and its frames (length prefix included), without decrypting."""
    data = path.read_bytes()
    magic, position, frames = data[: len(backups.MAGIC)], len(backups.MAGIC), []
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        frames.append(data[position : position + 4 + length])
        position += 4 + length
    return magic, frames


# --- round trip ------------------------------------------------------------------------------


@committed
def test_restore_gives_back_every_row_of_every_table_and_every_file(
    make_staff, folders, empty_database, tmp_path
):
    intake_officer = make_staff(Role.INTAKE_OFFICER)
    coordinator = make_staff(Role.HOUSING_COORDINATOR)
    in_intake = CaseFactory(intake_officer=intake_officer)
    case_services.evidence_add(
        case=in_intake,
        actor=intake_officer,
        kind="photo",
        upload=SimpleUploadedFile("id-card.png", PNG),
    )
    verified = VerifiedCaseFactory()
    FamilyMemberFactory(case=verified)
    allocation_create(
        actor=coordinator,
        occupant=Occupant(case=verified),
        bed=BedFactory(),
        start=timezone.localdate(),
    )
    StipendPlanFactory(case=verified)
    disbursement_run(period=month_of(timezone.localdate()))
    erased = CaseFactory()
    destroy_data_key(erased.data_key)

    output = io.StringIO()
    call_command("backup", stdout=output)
    restored_files = tmp_path / "restored"
    summary = backups.restore_backup(
        backups.stored_backups()[0].path, database=empty_database, files_root=restored_files
    )

    assert summary.files == 1
    source = table_contents(backups.database_settings())
    assert any(count for count, _digest in source.values())
    assert table_contents(empty_database) == source
    assert files_under(restored_files) == files_under(folders["private"])
    # The command says what it wrote and nothing of what is inside.
    text = output.getvalue()
    assert "database-" in text and "keyring-" in text and "SHA-256" in text
    for person in (in_intake, verified):
        assert person.real_name not in text and person.service_number not in text


# --- damage is refused -----------------------------------------------------------------------


def _flip_byte(magic: bytes, frames: list[bytes]) -> bytes:
    damaged = bytearray(frames[2])
    damaged[len(damaged) // 2] ^= 0x01
    return magic + b"".join([*frames[:2], bytes(damaged), *frames[3:]])


def _cut_in_a_frame(magic: bytes, frames: list[bytes]) -> bytes:
    return (magic + b"".join(frames))[:-10]


def _drop_final_frame(magic: bytes, frames: list[bytes]) -> bytes:
    return magic + b"".join(frames[:-1])


def _swap_frames(magic: bytes, frames: list[bytes]) -> bytes:
    return magic + b"".join([frames[0], frames[2], frames[1], *frames[3:]])


def _drop_a_frame(magic: bytes, frames: list[bytes]) -> bytes:
    return magic + b"".join([*frames[:2], *frames[3:]])


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_flip_byte, "fails its authentication check"),
        (_cut_in_a_frame, "ends in the middle of a frame (truncated)"),
        (_drop_final_frame, "ends before its final frame (truncated)"),
        (_swap_frames, "missing or out of order"),
        (_drop_a_frame, "missing or out of order"),
    ],
)
def test_a_damaged_backup_is_refused_and_restores_nothing(
    intact_backup, empty_database, tamper, message, tmp_path
):
    magic, frames = frames_of(intact_backup["database"])
    damaged = tmp_path / intact_backup["database"].name
    damaged.write_bytes(tamper(magic, frames))

    with pytest.raises(backups.BackupError, match=re.escape(message)):
        backups.verify_backup(damaged)
    with pytest.raises(backups.BackupError, match=re.escape(message)):
        backups.restore_backup(
            damaged,
            keyring_path=intact_backup["keyring"],
            database=empty_database,
            files_root=tmp_path / "restored",
        )
    with backups.connect(empty_database) as connection:
        assert backups.database_is_empty(connection)
    assert files_under(tmp_path / "restored") == {}


def test_frames_spliced_from_another_backup_are_refused(intact_backup, tmp_path):
    magic, frames = frames_of(intact_backup["database"])
    _magic, keyring_frames = frames_of(intact_backup["keyring"])
    spliced = tmp_path / "spliced.hvb"
    spliced.write_bytes(magic + b"".join([frames[0], keyring_frames[1], *frames[2:]]))
    with pytest.raises(backups.BackupError, match="belongs to another backup"):
        backups.verify_backup(spliced)


def test_a_backup_under_another_key_is_refused(intact_backup, settings):
    settings.HAVEN_BACKUP_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(backups.BackupError, match="No key in HAVEN_BACKUP_KEYS opens"):
        backups.verify_backup(intact_backup["database"])


def test_backup_keys_rotate_the_newest_writes_and_all_read(intact_backup, settings, tmp_path):
    old_key = settings.HAVEN_BACKUP_KEYS[0]
    settings.HAVEN_BACKUP_KEYS = [Fernet.generate_key().decode(), old_key]
    assert backups.verify_backup(intact_backup["database"]).kind == "database"
    settings.MEDIA_ROOT = tmp_path / "none"
    written = backups.backup_keyring(directory=tmp_path)
    settings.HAVEN_BACKUP_KEYS = [old_key]
    with pytest.raises(backups.BackupError, match="No key in HAVEN_BACKUP_KEYS opens"):
        backups.verify_backup(written.path)


def test_verify_command_reports_intact_and_damaged_files(intact_backup, tmp_path):
    damaged = tmp_path / "damaged.hvb"
    damaged.write_bytes(intact_backup["keyring"].read_bytes()[:-1])
    output, errors = io.StringIO(), io.StringIO()
    with pytest.raises(Exception, match="1 of 2 files failed"):
        call_command(
            "backup",
            "--verify",
            str(intact_backup["keyring"]),
            str(damaged),
            stdout=output,
            stderr=errors,
        )
    assert "Intact: keyring-" in output.getvalue()
    assert "NOT INTACT" in errors.getvalue() and "truncated" in errors.getvalue()


@pytest.mark.django_db
def test_restore_into_a_database_that_has_tables_is_refused(intact_backup, tmp_path):
    with pytest.raises(backups.BackupError, match="is not empty"):
        backups.restore_backup(
            intact_backup["database"],
            keyring_path=intact_backup["keyring"],
            files_root=tmp_path / "restored",
        )
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(intact_backup["database"]))
    assert files_under(tmp_path / "restored") == {}


def test_a_keyring_older_than_the_database_backup_is_refused(
    intact_backup, empty_database, tmp_path
):
    older = backups.backup_keyring(
        directory=tmp_path, now=timezone.now() - datetime.timedelta(days=3)
    )
    with pytest.raises(backups.BackupError, match="is older than"):
        backups.restore_backup(
            intact_backup["database"],
            keyring_path=older.path,
            database=empty_database,
            files_root=tmp_path / "restored",
        )
    with backups.connect(empty_database) as connection:
        assert backups.database_is_empty(connection)


# --- erasure reaches old backups ------------------------------------------------------------


@committed
def test_an_erased_case_cannot_be_read_from_an_old_backup_once_old_keyrings_expire(
    folders, empty_database, tmp_path
):
    to_erase, to_keep = CaseFactory(), CaseFactory()
    erased_key = bytes(to_erase.data_key.wrapped_key)
    old_database, old_keyring = backups.backup_all()
    assert _keyring_holds(old_keyring.path, erased_key)  # until it expires, it could reveal

    destroy_data_key(to_erase.data_key)
    new_keyring = backups.backup_keyring()
    assert not _keyring_holds(new_keyring.path, erased_key)
    deleted = backups.prune_backups(now=timezone.now() + datetime.timedelta(days=8))

    assert deleted == [old_keyring.path]
    assert [backup.path for backup in backups.stored_backups()] == [
        old_database.path,
        new_keyring.path,
    ]
    backups.restore_backup(
        old_database.path, database=empty_database, files_root=tmp_path / "restored"
    )
    assert read_protected(empty_database, "cases_case", "real_name", to_erase.pk) is None
    assert read_protected(empty_database, "cases_case", "real_name", to_keep.pk) == (
        to_keep.real_name
    )
    with backups.connect(empty_database) as connection:
        indexes = dict(
            connection.execute("SELECT id, service_number_index FROM cases_case").fetchall()
        )
    # Nor can anyone confirm the erased person's service number through its keyed hash.
    assert indexes[to_erase.pk] == "" and indexes[to_keep.pk] != ""


def _keyring_holds(path: Path, wrapped_key: bytes) -> bool:
    _summary, rows = backups._keyring_rows(path)
    return wrapped_key.hex() in rows.decode()


# --- retention --------------------------------------------------------------------------------


def test_pruning_keeps_what_retention_says_and_always_the_newest(tmp_path):
    now = datetime.datetime(2026, 6, 30, 12, tzinfo=datetime.UTC)

    def stored(kind: str, days_old: float, partial: bool = False) -> Path:
        stamp = (now - datetime.timedelta(days=days_old)).strftime(backups.TIMESTAMP_FORMAT)
        name = f".{kind}-{stamp}.hvb.partial" if partial else f"{kind}-{stamp}.hvb"
        path = tmp_path / name
        path.write_bytes(b"x")
        return path

    databases = {age: stored("database", age) for age in (1, 50, 89, 91, 200)}
    keyrings = {age: stored("keyring", age) for age in (0.5, 6, 8, 30)}
    stale_partial, fresh_partial = stored("database", 2, True), stored("keyring", 0.1, True)
    foreign = [tmp_path / "notes.txt", tmp_path / "database-old.hvb", tmp_path / "keyring.hvb"]
    for path in foreign:
        path.write_bytes(b"not ours")

    deleted = backups.prune_backups(directory=tmp_path, now=now, database_days=90, keyring_days=7)

    assert set(deleted) == {databases[91], databases[200], keyrings[8], keyrings[30], stale_partial}
    remaining = set(tmp_path.iterdir())
    assert remaining == {
        databases[1],
        databases[50],
        databases[89],
        keyrings[0.5],
        keyrings[6],
        fresh_partial,
        *foreign,
    }


def test_pruning_never_deletes_the_newest_backup_however_old(tmp_path):
    now = datetime.datetime(2026, 6, 30, 12, tzinfo=datetime.UTC)
    names = []
    for kind in ("database", "keyring"):
        for days_old in (400, 300):
            stamp = (now - datetime.timedelta(days=days_old)).strftime(backups.TIMESTAMP_FORMAT)
            names.append(tmp_path / f"{kind}-{stamp}.hvb")
            names[-1].write_bytes(b"x")

    backups.prune_backups(directory=tmp_path, now=now, database_days=90, keyring_days=7)

    assert set(tmp_path.iterdir()) == {names[1], names[3]}


# --- the nightly task -------------------------------------------------------------------------


@pytest.mark.django_db
def test_nightly_backup_is_scheduled_by_beat():
    entry = PeriodicTask.objects.get(task="accounts.backup_nightly")
    assert entry.enabled
    assert (entry.crontab.hour, entry.crontab.minute) == ("2", "30")
    assert str(entry.crontab.timezone) == "Asia/Yangon"
    from config.celery import app

    assert "accounts.backup_nightly" in app.tasks


@pytest.mark.django_db
def test_nightly_backup_writes_both_files_and_prunes(folders):
    expired = folders["backups"] / "keyring-20000101T000000.000000Z.hvb"
    folders["backups"].mkdir(parents=True)
    expired.write_bytes(b"an old keyring")

    result = backup_nightly()

    kinds = sorted(backup.kind for backup in backups.stored_backups())
    assert kinds == ["database", "keyring"]
    assert [entry["file"].split("-")[0] for entry in result["written"]] == [
        "database",
        "keyring",
    ]
    assert result["deleted"] == [expired.name]
    for backup in backups.stored_backups():
        assert backup.path.stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db
def test_a_failed_nightly_backup_is_logged_as_an_error_and_fails_the_task(
    folders, settings, caplog
):
    settings.HAVEN_BACKUP_KEYS = []
    with caplog.at_level(logging.ERROR), pytest.raises(backups.BackupError):
        backup_nightly()
    assert any(
        record.levelno == logging.ERROR and "Nightly backup failed" in record.getMessage()
        for record in caplog.records
    )
    assert backups.stored_backups() == []
