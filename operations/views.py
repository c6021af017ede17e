"""The health check that load balancers and monitoring poll."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from operations import health

logger = logging.getLogger(__name__)


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness of the database and Redis, without a word about why something failed."""
    checks = {"database": "ok", "redis": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.exception("Health check: database unavailable")
        checks["database"] = "unavailable"
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
    except Exception:
        logger.exception("Health check: Redis unavailable")
        checks["redis"] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    tasks: dict[str, dict] = {}
    try:
        ages = health.task_ages()
    except Exception:
        logger.exception("Health check: scheduled tasks unreadable")
        ages = []
    for age in ages:
        tasks[age.task] = {
            "age_seconds": int(age.age.total_seconds()),
            "limit_seconds": int(age.limit.total_seconds()),
            "late": age.late,
        }
    # A late scheduled task does not make this server unhealthy (restarting it would not help):
    # the answer is "degraded", still 200, and the watchdog alerts the administrators.
    if not healthy:
        status, code = "unavailable", 503
    elif any(entry["late"] for entry in tasks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, **checks, "scheduled_tasks": tasks}, status=code)
