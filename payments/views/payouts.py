"""Payout day: recording the lines of a batch in bulk (a selection kept across pages, all lines
at once, a search by case code; a submission recorded once however often it is sent), the
provider's settlement file (preview, then confirm), taking a batch for payout, and closing it
with its summary and the carry-forward in the same step."""

from __future__ import annotations

import re
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.forms import parse_id
from accounts.permissions import permission_required_logged, refusal_message
from payments import selectors, services
from payments.forms import CloseForm, RecordForm, SettlementForm
from payments.models import BatchStatus, DisbursementBatch, Payment, PaymentStatus
from payments.services import PaymentError
from payments.views.common import _batch_or_404
from protection.blind_indexes import western_digits

LINE_PAGE_SIZE = 100
OPEN_BATCH = (BatchStatus.APPROVED, BatchStatus.DISBURSING)
SETTLEMENT_SESSION = "payments.settlement"


def _selection_key(batch: DisbursementBatch) -> str:
    return f"payments.selection.{batch.pk}"


def _token(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _ids(values: list[str]) -> set[int]:
    return {number for number in (parse_id(value) for value in values) if number is not None}


def _search(value: str) -> str:
    """Part of a case code: letters, digits and hyphens only."""
    return re.sub(r"[^A-Z0-9-]", "", western_digits(value).upper())[:16]


def _recorded_message(request: HttpRequest, lines: list[Payment]) -> None:
    outcomes = sorted({line.status for line in lines})
    messages.success(
        request,
        ngettext(
            "%(count)d line recorded as %(outcome)s.",
            "%(count)d lines recorded as %(outcome)s.",
            len(lines),
        )
        % {
            "count": len(lines),
            "outcome": ", ".join(str(PaymentStatus(status).label).lower() for status in outcomes),
        },
    )


@permission_required_logged("payments.record_payout", action="payment.record", log_reads=False)
@never_cache
def record_payouts(request: HttpRequest, pk: int) -> HttpResponse:
    """The outcome of pending lines: ticked ones (kept across pages in the session) or every
    pending line of the batch (of the search, when there is one), with the same outcome."""
    batch = _batch_or_404(pk)
    key = _selection_key(batch)
    stored = request.session.get(key, {})
    selected, all_lines = set(stored.get("ids", [])), bool(stored.get("all"))
    data = request.POST if request.method == "POST" else request.GET
    code = _search(data.get("q", ""))
    form = RecordForm()
    if request.method == "POST":
        selected -= _ids(request.POST.getlist("shown"))
        selected |= _ids(request.POST.getlist("lines"))
        all_lines = request.POST.get("all_lines") == "1"
        action = "goto" if "goto" in request.POST else request.POST.get("action", "record")
        if action == "clear":
            selected, all_lines = set(), False
        request.session[key] = {"ids": sorted(selected), "all": all_lines}
        if action in ("goto", "search", "clear"):
            page_number = parse_id(request.POST.get("goto", "")) if action == "goto" else None
            query = {"q": code} if code else {}
            if page_number:
                query["page"] = page_number
            url = reverse("payments:record", args=[batch.pk])
            return redirect(f"{url}?{urlencode(query)}" if query else url)
        form = RecordForm(request.POST)
        if form.is_valid():
            if all_lines:
                lines = list(selectors.pending_lines(batch=batch, code=code))
            else:
                lines = list(Payment.objects.filter(batch=batch, pk__in=selected))
            if len(lines) != len(selected) and not all_lines:
                form.add_error(None, _("Some of the chosen lines are not in this batch."))
                selected = {line.pk for line in lines}
                request.session[key] = {"ids": sorted(selected), "all": all_lines}
            else:
                cleaned = form.cleaned_data
                try:
                    recorded = services.payments_record(
                        payments=lines,
                        batch=batch,
                        actor=request.user,
                        outcome=cleaned["outcome"],
                        method=cleaned["method"],
                        reference=cleaned["reference"],
                        acknowledged=cleaned["acknowledged"],
                        token=_token(request.POST.get("token", "")),
                    )
                except (PaymentError, PermissionDenied) as error:
                    form.add_error(None, refusal_message(error))
                else:
                    request.session.pop(key, None)
                    _recorded_message(request, recorded)
                    if selectors.pending_lines(batch=batch).exists():
                        return redirect("payments:record", pk=batch.pk)
                    return redirect("payments:batch_detail", pk=batch.pk)
    else:
        line = parse_id(request.GET.get("line", ""))
        if line:
            selected.add(line)
            request.session[key] = {"ids": sorted(selected), "all": all_lines}
    pending = selectors.pending_lines(batch=batch, code=code)
    page = Paginator(pending, LINE_PAGE_SIZE).get_page(data.get("page"))
    return render(
        request,
        "payments/record.html",
        {
            "batch": batch,
            "form": form,
            "page": page,
            "code": code,
            "selected": selected,
            "selected_count": len(selected),
            "all_lines": all_lines,
            "token": uuid.uuid4(),
            "is_open": batch.status in OPEN_BATCH,
        },
    )


@permission_required_logged("payments.record_payout", action="payment.settlement", log_reads=False)
@never_cache
def settlement(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a provider's settlement file, see what it would record, then confirm."""
    batch = _batch_or_404(pk)
    form, preview = SettlementForm(), None
    if request.method == "POST" and request.POST.get("action") == "confirm":
        pending = request.session.get(SETTLEMENT_SESSION, {})
        token = _token(request.POST.get("token", ""))
        if token is None or pending.get("token") != str(token) or pending.get("batch") != batch.pk:
            # Already confirmed (a double click): the token names what it recorded.
            done = list(Payment.objects.filter(batch=batch, record_token=token)) if token else []
            if done:
                _recorded_message(request, done)
            else:
                messages.error(request, _("Upload the settlement file again to record it."))
            return redirect("payments:batch_detail", pk=batch.pk)
        try:
            recorded, skipped = services.settlement_record(
                batch=batch, actor=request.user, rows=pending["rows"], token=token
            )
        except (PaymentError, PermissionDenied) as error:
            messages.error(request, refusal_message(error))
            return redirect("payments:settlement", pk=batch.pk)
        request.session.pop(SETTLEMENT_SESSION, None)
        if recorded:
            _recorded_message(request, recorded)
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(count)d line was already recorded and was left as it was.",
                    "%(count)d lines were already recorded and were left as they were.",
                    skipped,
                )
                % {"count": skipped},
            )
        return redirect("payments:batch_detail", pk=batch.pk)
    if request.method == "POST":
        form = SettlementForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                preview = services.settlement_preview(
                    batch=batch, content=form.cleaned_data["file"].read()
                )
            except PaymentError as error:
                form.add_error("file", str(error))
            else:
                token = str(uuid.uuid4())
                request.session[SETTLEMENT_SESSION] = {
                    "token": token,
                    "batch": batch.pk,
                    "rows": [
                        [row.line_id, row.outcome, row.transaction] for row in preview.to_record
                    ],
                }
                preview.token = token
    return render(
        request,
        "payments/settlement.html",
        {
            "batch": batch,
            "form": form,
            "preview": preview,
            "is_open": batch.status in OPEN_BATCH,
        },
    )


@permission_required_logged("payments.record_payout", action="batch.payout", log_reads=False)
@require_POST
def take_for_payout(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(pk)
    try:
        batch = services.batch_take_for_payout(batch=batch, actor=request.user)
    except (PaymentError, PermissionDenied) as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(
            request,
            _("You are paying out batch %(batch)s: you may see its payees until it closes.")
            % {"batch": batch.label},
        )
    return redirect("payments:batch_detail", pk=batch.pk)


@permission_required_logged("payments.record_payout", action="batch.close", log_reads=False)
@never_cache
def batch_close(request: HttpRequest, pk: int) -> HttpResponse:
    """The summary of the batch, and closing it (with the carry-forward) once confirmed."""
    batch = _batch_or_404(pk)
    summary = selectors.close_summary(batch=batch)
    form = CloseForm(initial={"carry_forward": bool(summary["carriable_count"])})
    if request.method == "POST":
        form = CloseForm(request.POST)
        if form.is_valid():
            try:
                batch = services.batch_close(
                    batch=batch,
                    actor=request.user,
                    carry_forward=form.cleaned_data["carry_forward"],
                )
            except (PaymentError, PermissionDenied) as error:
                messages.error(request, refusal_message(error))
            else:
                text = _("Batch %(batch)s is closed.") % {"batch": batch.label}
                if batch.carried_count:
                    text += " " + ngettext(
                        "%(count)d line will be paid again in next month's run.",
                        "%(count)d lines will be paid again in next month's run.",
                        batch.carried_count,
                    ) % {"count": batch.carried_count}
                messages.success(request, text)
            return redirect("payments:batch_detail", pk=batch.pk)
    return render(
        request,
        "payments/batch_close.html",
        {
            "batch": batch,
            "summary": summary,
            "form": form,
            "may_close": batch.status in OPEN_BATCH and not summary["pending"],
        },
    )
