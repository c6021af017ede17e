"""Fixtures of the operations tests: backup folders and scratch databases to restore into."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from operations import backups


@pytest.fixture
def folders(settings, tmp_path) -> dict[str, Path]:
    settings.HAVEN_BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "private"
    return {"backups": tmp_path / "backups", "private": tmp_path / "private"}


def _create_database(source: dict) -> dict:
    scratch = {**source, "NAME": f"{source['NAME']}_restore_{secrets.token_hex(4)}"}
    with psycopg.connect(
        **backups._connection_parameters({**source, "NAME": "postgres"}), autocommit=True
    ) as connection:
        connection.execute(f'CREATE DATABASE "{scratch["NAME"]}"')
    return scratch


def _drop_database(scratch: dict) -> None:
    with psycopg.connect(
        **backups._connection_parameters({**scratch, "NAME": "postgres"}), autocommit=True
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{scratch["NAME"]}" WITH (FORCE)')


@pytest.fixture(scope="module")
def scratch_database(django_db_blocker) -> Iterator[dict]:
    """A database of its own on the same server for the module's restores, dropped afterwards
    (once: dropping a database waits for a checkpoint). It needs no test database: a test may
    restore into it while another worker is still migrating its own."""
    with django_db_blocker.unblock():
        scratch = _create_database(backups.database_settings())
    yield scratch
    _drop_database(scratch)


@pytest.fixture
def empty_database(scratch_database) -> dict:
    """The scratch database, emptied."""
    with backups.connect(scratch_database) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    return scratch_database
