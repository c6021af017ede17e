"""Where the test process sends its Celery tasks: a Redis that cannot be reached (a port that
refuses connections, or one that accepts them and never answers: a frozen or overloaded Redis),
or a Redis database of a test's own."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from kombu import pools

from config.celery import app

HANG_SECONDS = 10


def _forget_broker_connections() -> None:
    """The app keeps a pool of broker connections (and of producers) for its URL; drop them so
    the next task is sent to the URL in the configuration.

    kombu keeps the pools in registries of its own, by URL: closing a pool without clearing them
    left the usual broker's pool closed in the registry, and every later task of this process
    failed with "Acquire on closed pool"."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str) -> Iterator[str]:
    """Send this process's tasks to `url` for the duration; to the usual broker afterwards."""
    previous = app.conf.broker_url
    app.conf.broker_url = url
    _forget_broker_connections()
    try:
        yield url
    finally:
        app.conf.broker_url = previous
        _forget_broker_connections()


@contextmanager
def unreachable_broker(*, answers_connections: bool = False) -> Iterator[str]:
    """Send this process's tasks to a port where no Redis answers. The socket is bound (so that
    no one else takes the port) but never accepts; when `answers_connections`, the kernel
    completes the connections and nothing ever replies."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        # Should the request wait for ever after all, closing the socket resets its
        # connections: the test then fails on the time taken instead of hanging.
        watchdog = threading.Timer(HANG_SECONDS, silent.close)
        if answers_connections:
            silent.listen(64)
            watchdog.start()
        try:
            with broker_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0") as url:
                yield url
        finally:
            watchdog.cancel()
