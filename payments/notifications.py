"""E-mails to the approvers when a batch or a one-off payment awaits them: Celery tasks that
services queue (kept apart from payments/tasks.py, which calls services, so that the two never
import each other). The messages carry case codes, amounts and links, never names."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from payments.models import BatchStatus, DisbursementBatch, OneOffPayment

logger = logging.getLogger(__name__)


def approvers_by_language() -> dict[str, list[str]]:
    """The approvers' addresses, grouped by the language each reads Haven in."""
    users = (
        User.objects.filter(is_active=True)
        .filter(
            Q(
                groups__permissions__codename="approve_batch",
                groups__permissions__content_type__app_label="payments",
            )
            | Q(is_superuser=True)
        )
        .exclude(email="")
        .distinct()
    )
    addresses: dict[str, set[str]] = defaultdict(set)
    for user in users:
        addresses[user.preferred_language or settings.LANGUAGE_CODE].add(user.email)
    return {language: sorted(emails) for language, emails in sorted(addresses.items())}


def _send_to_approvers(compose: Callable[[], tuple[str, str]]) -> int:
    """One message per language, composed in that language; returns how many were told."""
    told = 0
    for language, recipients in approvers_by_language().items():
        with translation.override(language):
            subject, message = compose()
        send_mail(subject=subject, message=message, from_email=None, recipient_list=recipients)
        told += len(recipients)
    return told


@shared_task(name="payments.notify_batch_ready")
def notify_batch_ready(batch_id: int) -> int:
    """Tell the approvers a draft batch awaits them: month, currency, lines, total; no names.
    A batch approved, rejected or closed by the time this runs (the demo's past months, a queue
    that was down) awaits nobody: nothing is sent."""
    batch = DisbursementBatch.objects.get(pk=batch_id)
    if batch.status != BatchStatus.DRAFT or not batch.line_count:
        logger.info(
            "batch ready not sent: the batch is no longer a draft awaiting approval",
            extra={"batch_id": batch.pk, "status": batch.status},
        )
        return 0

    def compose() -> tuple[str, str]:
        subject = _("Haven: batch %(batch)s is ready for approval") % {"batch": batch.label}
        message = ngettext(
            "The %(batch)s batch has %(count)d line totalling %(total)s %(currency)s.\n"
            "Review it in Haven: %(url)s",
            "The %(batch)s batch has %(count)d lines totalling %(total)s %(currency)s.\n"
            "Review it in Haven: %(url)s",
            batch.line_count,
        ) % {
            "batch": batch.label,
            "count": batch.line_count,
            "total": batch.total,
            "currency": batch.currency,
            "url": f"{settings.HAVEN_BASE_URL}/payments/batches/{batch.pk}/",
        }
        return subject, message

    return _send_to_approvers(compose)


@shared_task(name="payments.notify_one_off_awaiting")
def notify_one_off_awaiting(one_off_id: int) -> int:
    """Tell the approvers a one-off payment awaits them: kind, amount and case code; no names."""
    one_off = OneOffPayment.objects.select_related("case").get(pk=one_off_id)

    def compose() -> tuple[str, str]:
        kind = one_off.get_kind_display()
        subject = _("Haven: a %(kind)s awaits approval") % {"kind": kind.lower()}
        message = ngettext(
            "%(kind)s of %(amount)s %(currency)s for case %(case)s needs %(count)d approval.\n"
            "Review it in Haven: %(url)s",
            "%(kind)s of %(amount)s %(currency)s for case %(case)s needs %(count)d approvals.\n"
            "Review it in Haven: %(url)s",
            one_off.required_approvals,
        ) % {
            "kind": kind,
            "amount": one_off.amount,
            "currency": one_off.currency,
            "case": one_off.case.code,
            "count": one_off.required_approvals,
            "url": f"{settings.HAVEN_BASE_URL}/payments/one-off/{one_off.pk}/",
        }
        return subject, message

    return _send_to_approvers(compose)
