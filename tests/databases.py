"""The test databases of a run with several workers (pytest-xdist), each created once: the first
worker to need one migrates its own as pytest-django would, then copies it into a template; the
others wait for that template and copy it (PostgreSQL's CREATE DATABASE ... TEMPLATE, seconds)
instead of running every migration again, which takes two minutes of a core each.

A kept database (--reuse-db) and a run in one process are left to pytest-django."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connections


@contextmanager
def held(lock_path: Path) -> Iterator[None]:
    """An exclusive lock shared by the workers of one run (a file in the run's temporary root)."""
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def template_name(run_id: str) -> str:
    base = settings.DATABASES["default"]["NAME"]
    return f"test_{base}_template_{run_id[:12]}"


def create_database(name: str, *, template: str | None = None) -> None:
    """`name` made anew on the test server: empty, or a copy of `template` (which nobody may be
    connected to)."""
    connection = connections["default"]
    quote = connection.ops.quote_name
    copy = f" TEMPLATE {quote(template)}" if template is not None else ""
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
        cursor.execute(f"CREATE DATABASE {quote(name)}{copy}")


def drop_database(name: str) -> None:
    connection = connections["default"]
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)} WITH (FORCE)")


def set_up_from_template(
    *, lock_path: Path, run_id: str, serialize: bool, migrate_own
) -> list[tuple]:
    """This worker's test database, by migrating (the first worker) or by copying the first
    worker's result; returns the configuration `teardown_databases` takes."""
    marker = lock_path.with_suffix(".ready")
    template = template_name(run_id)
    connection = connections["default"]
    with held(lock_path):
        if marker.exists() and marker.read_text() == template:
            old_name = connection.settings_dict["NAME"]
            test_name = connection.creation._get_test_db_name()
            create_database(test_name, template=template)
            connection.close()
            settings.DATABASES[connection.alias]["NAME"] = test_name
            connection.settings_dict["NAME"] = test_name
            if serialize:
                connection._test_serialized_contents = connection.creation.serialize_db_to_string()
            connection.ensure_connection()
            return [(connection, old_name, True)]
        configuration = migrate_own()
        test_name = connection.settings_dict["NAME"]
        connection.close()
        create_database(template, template=test_name)
        marker.write_text(template)
        return configuration
