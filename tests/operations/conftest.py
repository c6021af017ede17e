"""Fixtures of the operations tests: backup folders and scratch databases to restore into."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from operations import backups
from tests.databases import create_database, drop_database


@pytest.fixture
def folders(settings, tmp_path) -> dict[str, Path]:
    settings.HAVEN_BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "private"
    return {"backups": tmp_path / "backups", "private": tmp_path / "private"}


@pytest.fixture(scope="module")
def scratch_database(django_db_blocker) -> Iterator[dict]:
    """A database of its own on the same server for the module's restores, dropped afterwards
    (once: dropping a database waits for a checkpoint). It needs no test database: a test may
    restore into it while another worker is still migrating its own."""
    source = backups.database_settings()
    scratch = {**source, "NAME": f"{source['NAME']}_restore_{secrets.token_hex(4)}"}
    with django_db_blocker.unblock():
        create_database(scratch["NAME"])
    yield scratch
    with django_db_blocker.unblock():
        drop_database(scratch["NAME"])


@pytest.fixture
def empty_database(scratch_database) -> dict:
    """The scratch database, emptied."""
    with backups.connect(scratch_database) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    return scratch_database
