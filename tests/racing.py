"""Run callables at the same moment on their own database connections, to race them for real;
or one in a thread while the test holds a lock, and see it wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection, connections


def race(workers: list[Callable[[], object]]) -> tuple[list[object], list[Exception]]:
    """Run the callables at the same moment, each on its own database connection."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def run(work: Callable[[], object]) -> None:
        try:
            barrier.wait()
            outcome = work()
            with lock:
                results.append(outcome)
        except Exception as error:  # collected and asserted by the test
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def waiting_on_a_lock(seconds: float = 5.0) -> bool:
    """Whether another connection of this database is waiting on a lock (polled)."""
    deadline = time.monotonic() + seconds
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            # pg_stat_activity is read once per transaction unless its snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def in_a_thread(work: Callable[[], object], outcome: dict) -> threading.Thread:
    """Start `work` on its own connection; its result or error lands in `outcome`."""

    def run():
        try:
            outcome["result"] = work()
        except Exception as error:  # asserted by the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread
