"""The Celery result backend: django-celery-results' database backend, which also waits out a
PostgreSQL restart instead of letting it kill the worker.

Without this, a task interrupted by a restart fails to record its state ("retrying") while the
server is still down, and the worker stops with "Unrecoverable error"; every task it held is
then delayed until someone restarts it. Here recording a result is retried (settings:
CELERY_RESULT_BACKEND_MAX_RETRIES) on a new connection, like django-celery-results already does
for a connection found closed."""

from __future__ import annotations

from django.db import OperationalError, connection
from django_celery_results.backends.database import DatabaseBackend as DjangoDatabaseBackend


class DatabaseBackend(DjangoDatabaseBackend):
    def exception_safe_to_retry(self, exc: Exception) -> bool:
        if isinstance(exc, OperationalError):
            # The server is restarting or the connection was cut: try again on a new one.
            connection.close()
            return True
        return super().exception_safe_to_retry(exc)
