"""Container health checks for Docker Compose: `python deploy/healthcheck.py web|beat`.

Exit status 0 is healthy. Only the standard library and packages Haven already installs; no
Django start-up, so a check costs milliseconds, not a second of CPU every interval.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

WEB_HEALTH_URL = "http://127.0.0.1:8000/healthz"


def probe_host(allowed_hosts: str) -> str:
    """A Host header that Django accepts: the first of DJANGO_ALLOWED_HOSTS, because production
    answers 400 to any other host, 127.0.0.1 included."""
    first = next((host.strip() for host in allowed_hosts.split(",") if host.strip()), "")
    if first in ("", "*"):
        return "localhost"
    return first.lstrip(".")  # ".example.org" allows example.org and its subdomains


def web_is_healthy(url: str, host: str, timeout: float = 5) -> bool:
    """True when /healthz answers 200 (database and Redis reachable); 503 or silence is not."""
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310  (fixed http URL)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310  # fixed http URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def beat_is_healthy() -> bool:
    """Beat has no endpoint: healthy when the broker and the database (its schedule) answer."""
    import psycopg
    import redis

    broker = os.environ.get("CELERY_BROKER_URL") or os.environ.get(
        "REDIS_URL", "redis://127.0.0.1:6379/0"
    )
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=5, socket_timeout=5).ping()
        with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except Exception:  # any failure is "unhealthy"; the details are in beat's own log
        return False
    return True


def main(argv: list[str]) -> int:
    if argv == ["web"]:
        host = probe_host(os.environ.get("DJANGO_ALLOWED_HOSTS", ""))
        return 0 if web_is_healthy(WEB_HEALTH_URL, host) else 1
    if argv == ["beat"]:
        return 0 if beat_is_healthy() else 1
    print("usage: healthcheck.py web|beat", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
