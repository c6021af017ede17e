"""A real Celery worker in a subprocess, on a queue of its own, against the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.db import connection
from django_celery_results.models import TaskResult
from psycopg import sql


@dataclass
class Worker:
    queue: str
    name: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def current_database_url() -> str:
    """The URL of the database this test uses, so the worker writes results where we read them."""
    database = connection.settings_dict
    user = quote(database["USER"] or "", safe="")
    password = quote(database["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = database["HOST"] or "127.0.0.1"
    port = database["PORT"] or "5432"
    return f"postgres://{credentials}{host}:{port}/{quote(database['NAME'], safe='')}"


def delete_results_of_worker(worker_name: str) -> None:
    """The worker's commits outlive the test's rolled-back transaction; remove them through a
    connection of their own so that a reused test database does not collect them."""
    database = connection.settings_dict
    with psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        autocommit=True,
    ) as cleanup:
        table = sql.Identifier(TaskResult._meta.db_table)
        cleanup.execute(sql.SQL("DELETE FROM {} WHERE worker = %s").format(table), [worker_name])


@contextmanager
def running_worker(log_directory: Path, **environment_overrides: str) -> Iterator[Worker]:
    """A worker subprocess on a queue of its own, so no other worker (a `make run`, a parallel
    test run) can take this test's task.

    The test runs inside a transaction like any other (`transaction=True` would flush every
    table afterwards, and with them the roles that the migrations created, for every later test
    of a reused test database). PostgreSQL's READ COMMITTED lets each query in that transaction
    see what the worker has committed meanwhile.
    """
    queue = f"haven-test-{uuid.uuid4().hex}"
    worker_name = f"{queue}@{socket.gethostname()}"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": current_database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **environment_overrides,
    }
    log = log_directory / "worker.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--hostname",
                worker_name,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(queue=queue, name=worker_name, process=process, log=log)
    try:
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        delete_results_of_worker(worker_name)


def kill(worker: Worker) -> None:
    """SIGKILL: the worker dies mid-task without acknowledging it, as in a power cut."""
    worker.process.send_signal(signal.SIGKILL)
    worker.process.wait(timeout=10)
