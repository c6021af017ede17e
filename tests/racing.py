"""Run callables at the same moment on their own database connections, to race them for real."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


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
