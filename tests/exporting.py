"""Exports in tests: ask for one as a person would (a POST), build it as the worker would, and
download it from its page."""

from __future__ import annotations

from django.test import Client
from django.urls import resolve, reverse

from operations.exports import export_build
from operations.models import ExportJob


def start(client: Client, url: str, data: dict | None = None) -> ExportJob:
    """POST the export's button; the job its page shows."""
    return job_of(client.post(url, data or {}))


def job_of(response) -> ExportJob:
    """The job whose page a started export redirects to."""
    assert response.status_code == 302, response.status_code
    match = resolve(response["Location"])
    assert match.view_name == "operations:export_detail", response["Location"]
    return ExportJob.objects.get(pk=match.kwargs["pk"])


def build(job: ExportJob) -> ExportJob:
    """What the worker does with the queued task."""
    export_build(job_id=str(job.pk))
    job.refresh_from_db()
    return job


def download(client: Client, job: ExportJob):
    return client.get(reverse("operations:export_download", args=[job.pk]))


def export(client: Client, url: str, data: dict | None = None):
    """Ask, build, download: the response of the download (200 with the file when ready)."""
    job = build(start(client, url, data))
    assert job.status == ExportJob.Status.READY, job.error
    response = download(client, job)
    assert response.status_code == 200
    return response


def content(response) -> bytes:
    return b"".join(response.streaming_content)
