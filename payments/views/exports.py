"""The batch downloads: the payroll PDF and the transfer lists as CSV and XLSX, each written to
the access log by payments/exports.py."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from payments import exports
from payments.models import DisbursementBatch


def _download(export: exports.Export) -> HttpResponse:
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


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
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    return _download(exports.batch_csv(batch=batch, actor=request.user, request=request))


@permission_required("payments.view_disbursementbatch", raise_exception=True)
@never_cache
@require_GET
def batch_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    return _download(exports.batch_xlsx(batch=batch, actor=request.user, request=request))
