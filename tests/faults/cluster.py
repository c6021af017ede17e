"""A private PostgreSQL server for one test, that the test may restart or stop at will: the
shared server that the rest of the suite (and its parallel workers) uses is never touched.

It starts as a copy of this test's database (schema, migrations and the roles they made), and
the test process's default connection can be pointed at it, so factories, the test client and
a worker subprocess (tests/workers.py takes the URL from that connection) all use it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.db import connection

DATABASE = "haven"


def postgresql_programs() -> Path:
    """The folder of initdb and pg_ctl: Debian keeps them out of PATH, by major version."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(re.sub(r"\D", "", path.parent.parent.name) or 0),
    )
    if not versions:
        raise RuntimeError(
            "This test starts a private PostgreSQL server and needs the server programs "
            "(initdb, pg_ctl): install the PostgreSQL server package (Debian: postgresql) or "
            "put its bin folder on PATH."
        )
    return versions[-1].parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], *, log=None, **options) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program; if it fails, say what it printed (and the server's log)."""
    done = subprocess.run(command, capture_output=True, check=False, **options)
    if done.returncode:
        output = (done.stdout + done.stderr).decode(errors="replace")
        server_log = log() if log else ""
        program = Path(next((part for part in command if "/" in part), command[0])).name
        raise RuntimeError(f"{program} failed ({done.returncode}):\n{output}\n{server_log}")
    return done


@dataclass
class Cluster:
    programs: Path
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def run_as_server_user(self, *command: str) -> None:
        # PostgreSQL refuses to run as root; as root, run it as the postgres user.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        run([*prefix, *command], log=self.server_log)

    def pg_ctl(self, action: str, *arguments: str) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self.run_as_server_user(
            str(self.programs / "pg_ctl"),
            action,
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            *arguments,
        )

    def connect(self, **options) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=DATABASE, **options
        )

    def server_log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A fresh server in a temporary folder (short, for the socket's path), stopped and removed
    afterwards."""
    programs = postgresql_programs()
    directory = Path(tempfile.mkdtemp(prefix="haven-pg-"))
    cluster = Cluster(programs=programs, directory=directory, port=free_port())
    if os.geteuid() == 0:
        shutil.chown(directory, user="postgres")
    try:
        cluster.run_as_server_user(
            str(programs / "initdb"),
            "-D",
            str(cluster.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--encoding=UTF8",
            "--no-locale",
        )
        cluster.pg_ctl("start")
        try:
            with psycopg.connect(
                host="127.0.0.1", port=cluster.port, user="postgres", autocommit=True
            ) as admin:
                admin.execute(f"CREATE DATABASE {DATABASE}")
            yield cluster
        finally:
            # If it is already stopped, the test's own failure is the one to report.
            with suppress(RuntimeError):
                cluster.pg_ctl("stop", "-m", "immediate")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def copy_test_database_into(cluster: Cluster) -> None:
    """pg_dump of this test's database (a second or two) instead of running every migration."""
    source = connection.settings_dict
    environment = {**os.environ}
    if source["PASSWORD"]:
        environment["PGPASSWORD"] = source["PASSWORD"]
    dump = run(
        [
            str(cluster.programs / "pg_dump"),
            "--no-owner",
            "--no-privileges",
            "--host",
            source["HOST"] or "127.0.0.1",
            "--port",
            str(source["PORT"] or 5432),
            "--username",
            source["USER"] or "postgres",
            source["NAME"],
        ],
        env=environment,
    )
    run(
        [
            str(cluster.programs / "psql"),
            "--quiet",
            "--no-psqlrc",
            "--set",
            "ON_ERROR_STOP=1",
            "--host",
            "127.0.0.1",
            "--port",
            str(cluster.port),
            "--username",
            "postgres",
            DATABASE,
        ],
        input=dump.stdout,
    )


@contextmanager
def django_connected_to(cluster: Cluster) -> Iterator[None]:
    """Point the default connection at the private server for the duration; back afterwards."""
    settings = connection.settings_dict
    saved = {key: settings[key] for key in ("HOST", "PORT", "NAME", "USER", "PASSWORD")}
    connection.close()
    settings.update(HOST="127.0.0.1", PORT=str(cluster.port), NAME=DATABASE, USER="postgres")
    settings["PASSWORD"] = ""
    try:
        yield
    finally:
        connection.close()
        settings.update(saved)
