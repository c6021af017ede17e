"""Settings of a test's worker whose unacknowledged messages are kept under keys of its own in
Redis: a worker with a short visibility timeout then takes back only its own test's abandoned
tasks, never those that the tests running alongside are still working on."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import CELERY_BROKER_TRANSPORT_OPTIONS

_UNACKED = os.environ["HAVEN_TEST_UNACKED_KEY"]

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "unacked_key": _UNACKED,
    "unacked_index_key": f"{_UNACKED}_index",
    "unacked_mutex_key": f"{_UNACKED}_mutex",
}
