"""What the payment pages share: looking up a batch or a one-off payment (or 404), reading a
number or a choice from the query string, and the permissions that let one see one-off
payments."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from accounts.forms import parse_id
from payments import selectors
from payments.models import DisbursementBatch, OneOffPayment

ONE_OFF_READ = ("payments.view_oneoffpayment", "payments.view_payment")


def _batch_or_404(pk: int) -> DisbursementBatch:
    try:
        return selectors.batch_detail(pk=pk)
    except DisbursementBatch.DoesNotExist as error:
        raise Http404 from error


def _one_off_or_404(pk: int) -> OneOffPayment:
    try:
        return selectors.one_off_detail(pk=pk)
    except OneOffPayment.DoesNotExist as error:
        raise Http404 from error


def _query_int(request: HttpRequest, name: str) -> int | None:
    return parse_id(request.GET.get(name, ""))


def _choice(value: str, choices: list[str]) -> str:
    return value if value in choices else ""
