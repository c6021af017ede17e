"""A throwaway PostgreSQL database for a benchmark: created empty, migrated, always dropped.

Benchmarks never touch the development or test databases: they fill their own with volumes
no developer wants to keep, on the server that DATABASE_URL names.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/haven"
# Test settings carry fixed, public keys for fictional data: exactly what a benchmark needs.
SETTINGS_MODULE = "config.settings.test"
# Tasks the benchmark queues (the run tells the approvers) go to a queue no worker reads; it
# is purged at the end.
CELERY_QUEUE = "haven-bench"


def bench_database_name(value: str) -> str:
    """A --database option's value: only a benchmark's own database is created and dropped."""
    import argparse
    import re

    if not re.fullmatch(r"haven_bench[a-z0-9_]{0,40}", value):
        raise argparse.ArgumentTypeError("must start with haven_bench, then a-z, 0-9 or _")
    return value


class BenchmarkSetupError(Exception):
    """The benchmark cannot prepare its database; the message says what to do."""


def _server_url() -> str:
    """The same server the settings would use: environment first, then .env, then the default
    of config/settings/base.py."""
    try:
        import environ

        environ.Env.read_env(ROOT / ".env", overwrite=False)
    except ImportError:
        pass
    return os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _maintenance(url: str):
    maintenance = urlunsplit(urlsplit(url)._replace(scheme="postgresql", path="/postgres"))
    try:
        return psycopg.connect(maintenance, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise BenchmarkSetupError(
            f"cannot reach PostgreSQL ({first_line}); start it with `make services` "
            "or point DATABASE_URL at a server that answers."
        ) from error


def _drop(url: str, name: str) -> None:
    with _maintenance(url) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def throwaway_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """Create database `name` afresh (dropping any leftover of an earlier run) and yield its
    URL; drop it afterwards, also on error or Ctrl-C, unless `keep`."""
    server = _server_url()
    _drop(server, name)
    with _maintenance(server) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(server, name)
    finally:
        _close_django_connections()
        if keep:
            print(f"Database {name} kept for inspection; drop it with: DROP DATABASE {name};")
        else:
            _drop(server, name)


def _close_django_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def configure_django(database_url: str) -> None:
    """Point Django at the benchmark database, migrate it (in a child process, so that the
    memory migrations take does not count in this process's peak) and set Django up here."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = CELERY_QUEUE
    migrate = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        check=False,
    )
    if migrate.returncode != 0:
        raise BenchmarkSetupError("migrating the benchmark database failed (see above).")
    import django

    django.setup()


def check_redis() -> None:
    """The run queues a notification task; say so plainly when the broker is not there."""
    import redis
    from django.conf import settings

    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        raise BenchmarkSetupError(
            f"Redis does not answer at {settings.CELERY_BROKER_URL} ({error}); "
            "start it with `make services`."
        ) from error


def purge_benchmark_queue() -> None:
    """Delete the benchmark's queue (with the notifications the runs queued: no worker must ever
    act on them) and kombu's bindings for it from Redis."""
    if "django.apps" not in sys.modules:
        return
    from django.apps import apps

    if not apps.ready:
        return
    import redis
    from django.conf import settings

    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2)
        # kombu names a queue's list (and its priority lists) after the queue, and keeps the
        # bindings of the exchange of the same name in two sets.
        keys = [*client.scan_iter(match=f"{CELERY_QUEUE}*")]
        keys += [f"_kombu.binding.{CELERY_QUEUE}", f"_kombu.binding_permanent.{CELERY_QUEUE}"]
        client.delete(*keys)
    except redis.RedisError as error:  # cleanup must not hide the benchmark's own outcome
        print(f"Could not delete the Celery queue {CELERY_QUEUE}: {error}", file=sys.stderr)
