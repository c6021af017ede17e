"""Development and demo settings, used by `make run`: works on a fresh machine without a `.env`.

The keys below are public and only for fictional demo data. Never use these settings with real
people's data: production settings refuse to start without real keys.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("DJANGO_SECRET_KEY", "demo-only-insecure-secret-key-never-use-in-production")
os.environ.setdefault("HAVEN_FIELD_KEYS", "ZGVtby1vbmx5LWZpZWxkLWtleS1uZXZlci1yZWFsISE=")
os.environ.setdefault("HAVEN_BLIND_INDEX_KEY", "demo-only-blind-index-key")
os.environ.setdefault("HAVEN_BACKUP_KEYS", "ZGVtby1vbmx5LWJhY2t1cC1rZXktbmV2ZXItcmVhbCE=")
# The demo is the only place where the second factor may be switched off.
os.environ.setdefault("HAVEN_REQUIRE_2FA", "false")

from config.settings.base import *  # noqa: F403

HAVEN_DEMO = True

# Static files come from the app folders (finders) here; the collected folder must merely exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405

# Alerts may go to a JSON endpoint on this machine (the tests read them back from one).
HAVEN_ALERT_SCHEMES = [*HAVEN_ALERT_SCHEMES, "json", "jsons", "form", "forms"]  # noqa: F405
HAVEN_ALERT_HOSTS = [*HAVEN_ALERT_HOSTS, "127.0.0.1", "localhost"]  # noqa: F405
