"""The health check that load balancers and monitoring poll, the icon browsers ask for on their
own, and the pages of exports built in the background (a person sees only their own)."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import refusal_message
from operations import exports, health
from operations.models import ExportJob

logger = logging.getLogger(__name__)


@login_not_required
@require_GET
@cache_control(max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico where a page names no icon (the admin, a file): send them to
    the one icon, not to a 404 in the log. Not permanent: the icon's hashed name changes."""
    return redirect(static("img/favicon.svg"))


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


# --- exports built in the background ----------------------------------------------------------


def _my_job(request: HttpRequest, pk) -> ExportJob:
    """Someone else's export is not found: its existence is nobody else's business."""
    return get_object_or_404(ExportJob, pk=pk, requested_by=request.user)


def _job_context(job: ExportJob) -> dict:
    kind = exports.get_kind(job.kind) if job.kind in exports.registered_codes() else None
    return {
        "job": job,
        "status": exports.shown_status(job),
        "error": exports.shown_error(job),
        "label": kind.label if kind else job.kind,
        "back_url": kind.back_url(job.arguments) if kind and kind.back_url else "",
        "Status": ExportJob.Status,
    }


@never_cache
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    jobs = [_job_context(job) for job in exports.exports_of(user=request.user)]
    return render(request, "operations/export_list.html", {"jobs": jobs})


@never_cache
@require_GET
def export_detail(request: HttpRequest, pk) -> HttpResponse:
    """The job's page: a progress bar that htmx refreshes while it is built, then the download
    (or why it failed, and "build again")."""
    job = _my_job(request, pk)
    template = (
        "operations/partials/export_progress.html"
        if request.htmx
        else "operations/export_detail.html"
    )
    return render(request, template, _job_context(job))


@never_cache
@require_GET
def export_download(request: HttpRequest, pk) -> HttpResponse:
    job = _my_job(request, pk)
    try:
        download = exports.export_open(job=job, actor=request.user, request=request)
    except PermissionDenied as error:
        messages.error(request, refusal_message(error))
        return redirect("operations:export_detail", pk=job.pk)
    except exports.ExportError as error:
        messages.error(request, str(error))
        return redirect("operations:export_detail", pk=job.pk)
    response = StreamingHttpResponse(download.chunks, content_type=download.content_type)
    response["Content-Length"] = str(download.size)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def export_again(request: HttpRequest, pk) -> HttpResponse:
    job = _my_job(request, pk)
    try:
        new_job = exports.export_again(job=job, actor=request.user)
    except PermissionDenied as error:
        messages.error(request, refusal_message(error))
        return redirect("operations:export_detail", pk=job.pk)
    except exports.ExportError as error:
        messages.error(request, str(error))
        return redirect("operations:export_detail", pk=job.pk)
    return redirect("operations:export_detail", pk=new_job.pk)


def start_export(request: HttpRequest, *, kind: str, arguments: dict, back: str) -> HttpResponse:
    """For the views of the apps that offer an export: start it (or find the one already on its
    way) and show its page; a refusal goes back to `back` with the reason."""
    try:
        job = exports.export_start(kind=kind, actor=request.user, arguments=arguments)
    except PermissionDenied as error:
        messages.error(request, refusal_message(error))
        return redirect(back)
    except exports.ExportError as error:
        messages.error(request, str(error))
        return redirect(back)
    return redirect("operations:export_detail", pk=job.pk)
