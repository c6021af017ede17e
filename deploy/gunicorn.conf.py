"""Gunicorn settings for Haven: `gunicorn --config deploy/gunicorn.conf.py config.wsgi`.

The address is given on the command line (Docker Compose: 0.0.0.0:8000 inside the container;
systemd: the socket that haven-web.socket hands over). Sizes come from the environment.
"""

import os


def _positive_int(name: str, default: int) -> int:
    value = int(os.environ.get(name, default))
    if value < 1:
        raise ValueError(f"{name} must be a positive whole number, not {value}.")
    return value


def _cores() -> int:
    # The cores this process may run on (a container's cpuset), not every core of the host.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


# Sync workers: nginx buffers slow clients, and every request is short database work.
worker_class = "sync"
# One more worker than cores: Haven's pages spend most of their time in Python, so more workers
# than that only share the cores out among more requests at once, and each waits longer. With
# 50 staff on 2 cores (docs/benchmarks.md, issue 22), p95 was 150-220 ms with 2 or 3 workers
# and 250-320 ms with 5 (2 × cores + 1, gunicorn's suggestion for work that waits on I/O).
workers = _positive_int("WEB_CONCURRENCY", _cores() + 1)
# The largest pages (payroll PDF, XLSX exports) take seconds; the monthly run is a Celery task.
timeout = _positive_int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# A worker is replaced after this many requests, so that a slow leak cannot grow for ever.
max_requests = 1000
max_requests_jitter = 100
# The heartbeat file lives in memory: the containers' root file system is read-only.
MEMORY_FOLDER = "/dev/shm"  # noqa: S108  # nosec B108  # only gunicorn's heartbeat files
worker_tmp_dir = MEMORY_FOLDER if os.path.isdir(MEMORY_FOLDER) else None
# Proxies whose X-Forwarded-* headers gunicorn believes (gunicorn's own variable).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn ≥ 25 opens a control socket under $HOME, which is read-only here; nothing uses it.
control_socket_disable = True

# Request line limits stay at gunicorn's defaults; protected values are never in URLs anyway,
# but the access log keeps the path only (%(U)s), never the query string, and no Referer.
accesslog = "-"
access_log_format = (
    '%({x-forwarded-for}i)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
