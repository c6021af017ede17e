"""Settings for the test suite: the real PostgreSQL and Redis, fixed test keys, fast hashing."""

import gc
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault(
    "HAVEN_FIELD_KEYS",
    "dGVzdC1vbmx5LWZpZWxkLWtleS0wMDAwMDAwMDAwMDA=",
)
os.environ.setdefault("HAVEN_BLIND_INDEX_KEY", "test-only-blind-index-key")
os.environ.setdefault("HAVEN_BACKUP_KEYS", "dGVzdC1vbmx5LWJhY2t1cC1rZXktMDAwMDAwMDAwMDA=")
os.environ.setdefault("HAVEN_REQUIRE_2FA", "true")
# Keep tests off the development Redis database so a running `make run` is never disturbed.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", "haven-test")

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS, LOGGING

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
INSTALLED_APPS = [*INSTALLED_APPS, "tests.protected_app"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_FAILURE_LIMIT = 5
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "INFO"}}
HAVEN_DEMO = False
# Tests share one Redis: a figure kept from one test would show in the next.
HAVEN_FIGURES_CACHE_SECONDS = 0

# Static files come from the app folders (finders) here; the collected folder must merely exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405

# Alerts may go to a JSON endpoint on this machine (the tests read them back from one).
HAVEN_ALERT_SCHEMES = [*HAVEN_ALERT_SCHEMES, "json", "jsons", "form", "forms"]  # noqa: F405
HAVEN_ALERT_HOSTS = [*HAVEN_ALERT_HOSTS, "127.0.0.1", "localhost"]  # noqa: F405

# The test run builds and drops objects by the hundred thousand (a migration renders every model
# class again for each operation): the youngest generation is collected far less often, which
# made migrating a test database 15% quicker. Only the test run (and the commands it starts with
# these settings) is tuned so; production keeps Python's defaults.
gc.set_threshold(50_000, 50, 100)
