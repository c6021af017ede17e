"""Settings of a test's worker that also knows the slow export of tests/faults/slow_export.py."""

from tests.faults.worker_settings import *  # noqa: F403

CELERY_IMPORTS = ["tests.faults.slow_export"]
