"""The batch downloads: the payroll PDF and the transfer lists as CSV and XLSX. A POST starts
the export in the background (operations/exports.py; payments/exports/ builds it and writes
the access log) and shows its progress; two clicks start one job."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST

from operations.views import start_export
from payments.exports import EXPORT_PERMISSION
from payments.models import DisbursementBatch


def _start(request: HttpRequest, pk: int, kind: str, **arguments) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    return start_export(
        request,
        kind=kind,
        arguments={"batch": batch.pk, **arguments},
        back=reverse("payments:batch_detail", args=[batch.pk]),
    )


@permission_required(EXPORT_PERMISSION, raise_exception=True)
@require_POST
def batch_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _start(request, pk, "payments.batch_pdf")


@permission_required(EXPORT_PERMISSION, raise_exception=True)
@require_POST
def batch_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """With payees=1 the names and wallets, for the officer paying the batch out only: anyone
    else is sent back to the batch with the reason."""
    return _start(request, pk, "payments.batch_csv", payees=request.POST.get("payees") == "1")


@permission_required(EXPORT_PERMISSION, raise_exception=True)
@require_POST
def batch_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    return _start(request, pk, "payments.batch_xlsx", payees=request.POST.get("payees") == "1")
