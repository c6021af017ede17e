"""Production settings: every secret must come from the environment, and transport is secure."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import HAVEN_ALERT_SCHEMES, HAVEN_REQUIRE_2FA, env

DEBUG = False
if not HAVEN_REQUIRE_2FA:
    raise ImproperlyConfigured("HAVEN_REQUIRE_2FA cannot be switched off in production.")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
# Nightly backups cannot be written without their key: refuse to start rather than find out
# the morning a backup is needed.
HAVEN_BACKUP_KEYS = env.list("HAVEN_BACKUP_KEYS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
HAVEN_PROXY_COUNT = env.int("HAVEN_PROXY_COUNT", default=1)
HAVEN_DEMO = False

# Schemes that post to any address a member of staff types would let them make this server
# call the internal network.
GENERIC_ALERT_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls"}
if GENERIC_ALERT_SCHEMES & set(HAVEN_ALERT_SCHEMES):
    raise ImproperlyConfigured(
        "HAVEN_ALERT_SCHEMES may not list json, form or xml in production: they would let staff "
        "make the server call internal addresses."
    )
