"""Settings shared by every environment; everything that differs between machines comes from
the environment (or a `.env` file) through django-environ. See `.env.example`."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "django_celery_beat",
    "django_celery_results",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "bootstrap",
    "csp",
    # The platform, lowest first: each app may import the ones above it, never those below.
    "protection",
    "audit",
    "accounts",
    "operations",
    "notifications",
    # The domain apps.
    "cases",
    "housing",
    "payments",
    "journeys",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "protection.middleware.RequestLogContextMiddleware",
    "protection.middleware.UnreadableQueryMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.DeviceMiddleware",  # django-otp's OTPMiddleware
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # AxesMiddleware must be last: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.haven",
                "notifications.context_processors.alerts",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/haven"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL's just-in-time compilation pays off for long analytical queries, not for a web
# page's: on the reports at scale it spent half a second compiling a query that runs in less
# (issue 22). Off for Haven's connections, whatever the server's default.
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "haven",
        "TIMEOUT": 300,
    }
}

# The dashboard's figures over the whole caseload (how many wait for a bed and since when, the
# monthly chart, verified this month) are kept this long in the cache and shared by everyone who
# may see them: numbers only, never a name. 0 computes them on every request.
HAVEN_FIGURES_CACHE_SECONDS = env.int("HAVEN_FIGURES_CACHE_SECONDS", default=60)

AUTH_USER_MODEL = "accounts.User"
# Second-factor keys and backup codes are never shown in the admin, not even to a superuser.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
AUTHENTICATION_BACKENDS = [
    # AxesStandaloneBackend must be first: it refuses locked-out users before a password check.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the user's roles and permissions with the user.
    "accounts.backends.StaffBackend",
    # Object permissions: need-to-know on a case (cases/rules.py).
    "rules.permissions.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Two-factor authentication: mandatory unless switched off (only the demo settings do).
HAVEN_REQUIRE_2FA = env.bool("HAVEN_REQUIRE_2FA", default=True)
OTP_TOTP_ISSUER = env("HAVEN_TOTP_ISSUER", default="Haven")
OTP_TOTP_THROTTLE_FACTOR = 1

# Lockout after repeated failures (django-axes): by user name *and* address, so that nobody can
# lock a member of staff out from elsewhere. What still caps guesses spread over many addresses is
# the per-account cap below (accounts/lockout.py) and django-otp's throttle on the second factor.
AXES_FAILURE_LIMIT = env.int("HAVEN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("HAVEN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failures of one account from every address in an hour before its password is no longer even
# checked (for the rest of that hour), and the number of addresses that alerts administrators.
HAVEN_ACCOUNT_FAILURE_CAP = env.int("HAVEN_ACCOUNT_FAILURE_CAP", default=30)
HAVEN_LOGIN_ALERT_ADDRESSES = env.int("HAVEN_LOGIN_ALERT_ADDRESSES", default=3)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Reverse proxies in front of Haven that append to X-Forwarded-For (production: 1).
HAVEN_PROXY_COUNT = 0
AXES_CLIENT_IP_CALLABLE = "audit.addresses.address_behind_proxies"

# Sessions end after a period of inactivity and when the browser closes.
SESSION_COOKIE_AGE = env.int("HAVEN_SESSION_IDLE_MINUTES", default=30) * 60
# The idle timeout slides with each request, but the session is written at most once every
# HAVEN_SESSION_TOUCH_SECONDS (accounts.middleware.IdleSessionMiddleware): a session ends up to
# that much before SESSION_COOKIE_AGE of inactivity, never after.
SESSION_SAVE_EVERY_REQUEST = False
HAVEN_SESSION_TOUCH_SECONDS = env.int("HAVEN_SESSION_TOUCH_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Django's database sessions, read in SQL (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("my", _("Burmese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Django has no Burmese date formats; ours are in config/formats/my/formats.py.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env("HAVEN_TIME_ZONE", default="Asia/Yangon")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("HAVEN_PRIVATE_FILES_ROOT", default=BASE_DIR / "var" / "private")
HAVEN_EVIDENCE_MAX_BYTES = env.int("HAVEN_EVIDENCE_MAX_MEGABYTES", default=10) * 1024 * 1024
# Deliberately no MEDIA_URL route: private files are served only by permission-checked views.
# Exports built in the background (operations/exports.py): a file is destroyed with its key this
# many hours after it is ready; a job without a sign of life for this many minutes is failed.
HAVEN_EXPORT_EXPIRY_HOURS = env.int("HAVEN_EXPORT_EXPIRY_HOURS", default=24)
HAVEN_EXPORT_STUCK_MINUTES = env.int("HAVEN_EXPORT_STUCK_MINUTES", default=15)

# E-mail (notifications to approvers carry no identity data). Default: printed to the console.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="haven@localhost")
# The address staff use to reach Haven, for links in notifications.
HAVEN_BASE_URL = env("HAVEN_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Minutes during which a housing allocation or move can be undone (cancelled, kept in history)
# by whoever made it or a housing coordinator.
HAVEN_ALLOCATION_UNDO_MINUTES = env.int("HAVEN_ALLOCATION_UNDO_MINUTES", default=30)

# Plans per committed chunk of the monthly run (bounded memory; a crash loses one chunk at most).
HAVEN_DISBURSEMENT_CHUNK_SIZE = env.int("HAVEN_DISBURSEMENT_CHUNK_SIZE", default=5000)

# One-off payments above these amounts need two different approvers (JSON: currency → amount).
HAVEN_SECOND_APPROVER_ABOVE = env.json(
    "HAVEN_SECOND_APPROVER_ABOVE", default={"THB": 10000, "MMK": 2000000, "USD": 300}
)

# Protection of identity data (see protection/keys.py and docs/keys.md).
# Master keys wrap the data keys; newest first. The blind-index key makes exact-match look-ups.
HAVEN_FIELD_KEYS = env.list("HAVEN_FIELD_KEYS")
HAVEN_BLIND_INDEX_KEY = env("HAVEN_BLIND_INDEX_KEY")
HAVEN_DATA_KEY_CACHE_SECONDS = env.int("HAVEN_DATA_KEY_CACHE_SECONDS", default=30)

# Audit trail: history events can never be updated or deleted (database triggers).
PGHISTORY_APPEND_ONLY = True
# The events admin without the raw data columns, which would show ciphertext.
PGHISTORY_ADMIN_CLASS = "audit.admin.HistoryEventsAdmin"

# Celery: Redis as the broker, results in the database so administrators can see them.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="haven")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Keep Django's LOGGING (JSON, redaction filter) in the worker instead of Celery's own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = False

# Structured (JSON) logs; every handler runs the redaction filter first.
LOG_LEVEL = env("HAVEN_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "protection.logs.RedactProtectedValuesFilter"},
        "refusal_as_info": {"()": "protection.logs.RefusalAsInfoFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["redact"],
        },
        "null": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (console when DEBUG, mail to ADMINS) would bypass the redaction
        # filter: everything goes through the root handler instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING", "propagate": True},
        # A 403 is one INFO line (protection/logs.py), not a WARNING with a traceback.
        "django.request": {"filters": ["refusal_as_info"], "propagate": True},
        "celery": {"level": LOG_LEVEL, "propagate": True},
        # Apprise quotes alert target URLs, secrets and all, in its messages: they are captured
        # where an alert is sent (notifications/channels.py) and never reach the logs.
        "apprise": {"handlers": ["null"], "level": "WARNING", "propagate": False},
        # urllib3 (under Apprise's requests) logs each request's path, where tokens live.
        "urllib3": {"handlers": ["null"], "level": "WARNING", "propagate": False},
    },
}

# Lockout is per account, not per address: locking an address would let one attacker lock out
# a whole office behind one NAT address. Rate-limit addresses at the reverse proxy
# (docs/deployment.md).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- Backups (operations/backups/) ---------------------------------------------------------

# Fernet keys of the backup files, comma-separated, newest first: the first encrypts, all decrypt.
# Without them no backup can be written or read; the demo and test settings bring public ones.
HAVEN_BACKUP_KEYS = env.list("HAVEN_BACKUP_KEYS", default=[])
HAVEN_BACKUP_DIR = env.path("HAVEN_BACKUP_DIR", default=BASE_DIR / "var" / "backups")
# Database backups are kept long; keyrings (the wrapped data keys) briefly, because a data key
# destroyed by an erasure survives in the keyrings written before it until they are deleted.
HAVEN_BACKUP_RETENTION_DAYS = env.int("HAVEN_BACKUP_RETENTION_DAYS", default=90)
HAVEN_KEYRING_RETENTION_DAYS = env.int("HAVEN_KEYRING_RETENTION_DAYS", default=7)
# Where pg_dump, pg_restore and psql are, when not in /usr/lib/postgresql/<server version>/bin
# or on the PATH.
HAVEN_POSTGRES_BIN_DIR = env("HAVEN_POSTGRES_BIN_DIR", default="")

# --- Erasure and retention (cases/services/erasure.py) -------------------------------------

# Cases closed longer than this are proposed for crypto-erasure every night (two approvals are
# still needed); 0 turns the rule off.
HAVEN_ERASURE_AFTER_CLOSURE_DAYS = env.int("HAVEN_ERASURE_AFTER_CLOSURE_DAYS", default=730)

# Searches by service or ID number each member of staff may make in an hour (cases/services/
# lookups.py): past it they are refused and the administrators alerted.
HAVEN_LOOKUP_LIMIT_PER_HOUR = env.int("HAVEN_LOOKUP_LIMIT_PER_HOUR", default=20)

# Need-to-know (cases/rules.py): how long a break-the-glass opens a case for, and how many
# records (cases, family members, houses...) each member of staff may reveal in a day before a
# second person must raise their budget (accounts/budgets.py).
HAVEN_BREAK_GLASS_MINUTES = env.int("HAVEN_BREAK_GLASS_MINUTES", default=60)
HAVEN_REVEAL_BUDGET_PER_DAY = env.int("HAVEN_REVEAL_BUDGET_PER_DAY", default=40)

# --- Two-person control of staff and roles (accounts/staff_requests.py) ---------------------

# A role granted (or an account created) less than this many hours ago cannot be either eye of
# a four-eyes step (accounts/cooling.py).
HAVEN_ROLE_COOLING_HOURS = env.int("HAVEN_ROLE_COOLING_HOURS", default=24)
# Hours a request about staff (an account, a role, a reset) waits for a second administrator.
HAVEN_STAFF_REQUEST_HOURS = env.int("HAVEN_STAFF_REQUEST_HOURS", default=72)
# Minutes a one-time link to set one's own password stays valid.
HAVEN_SETUP_LINK_MINUTES = env.int("HAVEN_SETUP_LINK_MINUTES", default=30)

# --- Alerts (notifications/) -----------------------------------------------------------------

# Apprise schemes staff may send their alerts to. json:// and form:// would let anyone point
# the server at an internal address: only the demo and test settings allow them.
HAVEN_ALERT_SCHEMES = env.list(
    "HAVEN_ALERT_SCHEMES",
    default=["tgram", "signal", "signals", "matrix", "matrixs", "mailto", "mailtos"],
)
# Servers a target may name (signal-cli's REST API, a Matrix homeserver, an SMTP server): host
# names as written in the URL, e.g. signal-cli,matrix.example.org. Telegram needs none.
HAVEN_ALERT_HOSTS = [host.lower() for host in env.list("HAVEN_ALERT_HOSTS", default=[])]
# An alert that fails this many attempts (with growing pauses) is given up and reported.
HAVEN_ALERT_MAX_ATTEMPTS = env.int("HAVEN_ALERT_MAX_ATTEMPTS", default=6)

# --- Journeys (journeys/, docs/journeys.md) --------------------------------------------------

# Minutes after a missed check-in's grace period before the backup handler and the journey
# coordinators are alerted (the lead handler is alerted at once).
HAVEN_JOURNEY_BACKUP_AFTER_MINUTES = env.int("HAVEN_JOURNEY_BACKUP_AFTER_MINUTES", default=30)
# Minutes after the grace period before the contingency incident opens.
HAVEN_JOURNEY_CONTINGENCY_AFTER_MINUTES = env.int(
    "HAVEN_JOURNEY_CONTINGENCY_AFTER_MINUTES", default=90
)
# Code words checked per journey and hour; past it checks are refused (and logged).
HAVEN_JOURNEY_CODE_WORD_CHECKS_PER_HOUR = env.int(
    "HAVEN_JOURNEY_CODE_WORD_CHECKS_PER_HOUR", default=10
)
# Code words matching nothing for one journey within an hour before the coordinators hear.
HAVEN_JOURNEY_NO_MATCH_ALERT_AFTER = env.int("HAVEN_JOURNEY_NO_MATCH_ALERT_AFTER", default=3)
# The longest grace period a plan may give a check-in window.
HAVEN_JOURNEY_MAX_GRACE_MINUTES = env.int("HAVEN_JOURNEY_MAX_GRACE_MINUTES", default=720)
# Days after a journey ends (arrival or cancellation) before its data key is destroyed: the
# route, channels, code-word hashes and notes go; the clock's times and the counts stay.
HAVEN_JOURNEY_RETENTION_DAYS = env.int("HAVEN_JOURNEY_RETENTION_DAYS", default=30)

# --- Emergency controls (accounts/emergency.py) -------------------------------------------

# --- Fault tolerance: queueing tasks when the broker is down --------------------------------

# A request that queues a task must not hang while Redis is down (without a socket timeout a
# Redis that accepts connections but does not answer stalls it for good): about 2 s at worst,
# then operations/queueing.py reports the failure. Redis answers in milliseconds when healthy.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
}
# One quick second attempt covers a Redis restart; beyond that the caller is told at once.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0.2,
    "interval_step": 0.2,
    "interval_max": 0.2,
}

# A PostgreSQL restart must not kill the workers: recording a task's state waits for the
# database (new connection, growing pauses up to 5 s, about a minute or two in all) before
# giving up. See operations/results.py; the tasks themselves retry their own work.
CELERY_RESULT_BACKEND = "operations.results:DatabaseBackend"
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_BACKEND_MAX_RETRIES = 30
CELERY_RESULT_BACKEND_BASE_SLEEP_BETWEEN_RETRIES_MS = 100
CELERY_RESULT_BACKEND_MAX_SLEEP_BETWEEN_RETRIES_MS = 5000
