"""Test-only views that handle protected values and log them, to prove the logs stay clean."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseServerError

from tests.protected_app.models import ProtectedRecord

logger = logging.getLogger(__name__)


@login_not_required
def log_record(request: HttpRequest, pk: int) -> HttpResponse:
    record = ProtectedRecord.objects.get(pk=pk)
    logger.info("handled %s", record.real_name)
    logger.info("checked the service number", extra={"service_number": record.service_number})
    # An extra under a key the filter does not know, and one that is not a string.
    logger.info(
        "looked up", extra={"subject": record.real_name, "person": {"who": record.real_name}}
    )
    return HttpResponse(record.code)


@login_not_required
def fail_on_record(request: HttpRequest, pk: int) -> HttpResponse:
    record = ProtectedRecord.objects.get(pk=pk)
    raise RuntimeError(f"could not process {record.real_name} ({record.service_number})")


def server_error(request: HttpRequest) -> HttpResponse:
    # The project's 500 page links to routes this test urlconf does not have.
    return HttpResponseServerError("server error")
