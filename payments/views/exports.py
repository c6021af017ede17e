"""The batch downloads: the payroll PDF and the transfer lists as CSV and XLSX, each written to
the access log by payments/exports.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.permissions import refusal_message
from payments import exports
from payments.models import DisbursementBatch


def _download(export: exports.Export) -> HttpResponse:
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _transfers(request: HttpRequest, pk: int, export) -> HttpResponse:
    """A transfer list; with ?payees=1 the names and wallets, for the officer paying the batch
    out only: anyone else (logged by the reveal) is sent back to the batch with the reason."""
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    try:
        return _download(
            export(
                batch=batch,
                actor=request.user,
                request=request,
                with_payees=request.GET.get("payees") == "1",
            )
        )
    except PermissionDenied as error:
        if request.GET.get("payees") != "1":
            raise
        messages.error(request, refusal_message(error))
        return redirect("payments:batch_detail", pk=batch.pk)


@permission_required("payments.view_disbursementbatch", raise_exception=True)
@never_cache
@require_GET
def batch_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    return _download(exports.batch_pdf(batch=batch, actor=request.user, request=request))


@permission_required("payments.view_disbursementbatch", raise_exception=True)
@never_cache
@require_GET
def batch_csv(request: HttpRequest, pk: int) -> HttpResponse:
    return _transfers(request, pk, exports.batch_csv)


@permission_required("payments.view_disbursementbatch", raise_exception=True)
@never_cache
@require_GET
def batch_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    return _transfers(request, pk, exports.batch_xlsx)
