"""Raising alerts, reading them, alert targets, and delivering alerts out of band.

`notify` is the one way any app raises an alert: it writes one notification per recipient and
event (a second call for the same event changes nothing) and, once the transaction commits,
queues one Celery delivery per target that should receive it."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import Role
from notifications import channels, kinds
from notifications.kinds import AlertError
from notifications.models import (
    SEVERITY_RANK,
    AlertTarget,
    Delivery,
    KindSetting,
    Notification,
    Severity,
)
from operations.queueing import queue_task


def _recipients(recipients: Iterable[AbstractBaseUser | str]) -> list[AbstractBaseUser]:
    """People as given, and roles (group names) resolved to their active members now."""
    users: dict[int, AbstractBaseUser] = {}
    roles = []
    for recipient in recipients:
        if isinstance(recipient, str):
            roles.append(recipient)
        elif recipient is not None and recipient.is_active:
            users[recipient.pk] = recipient
    if roles:
        for member in get_user_model().objects.filter(is_active=True, groups__name__in=roles):
            users.setdefault(member.pk, member)
    return list(users.values())


def _check_link(link: str) -> str:
    if not link:
        return ""
    if not link.startswith("/") or "?" in link or "#" in link or len(link) > 200:
        raise AlertError("An alert links to a path of Haven, without a query.")
    try:
        resolve(link)
    except Resolver404 as error:
        raise AlertError("An alert links to a page that does not exist.") from error
    return link


def forced_out_of_band(kind: kinds.AlertKind) -> bool:
    """The administrators' floor: this kind goes to every target, whatever severity each chose.
    (Urgent alerts need none: no target can ask for more than urgent.)"""
    return KindSetting.objects.filter(kind=kind.code, always_out_of_band=True).exists()


def notify(
    *,
    kind: str,
    recipients: Iterable[AbstractBaseUser | str],
    event_key: str,
    parameters: dict[str, object] | None = None,
    link: str = "",
) -> list[Notification]:
    """Alert people and roles of something that happened, once per event and person.

    The text comes from the kind and its safe parameters (kinds.py); it never carries free
    text. Returns the notifications written now (none for an event already notified)."""
    alert_kind = kinds.get(kind)
    cleaned = kinds.clean_parameters(alert_kind, parameters or {})
    link = _check_link(link)
    forced = forced_out_of_band(alert_kind)
    written: list[Notification] = []
    with transaction.atomic():
        for user in _recipients(recipients):
            try:
                with transaction.atomic():
                    notification = Notification.objects.create(
                        recipient=user,
                        kind=alert_kind.code,
                        severity=alert_kind.severity,
                        parameters=cleaned,
                        link=link,
                        event_key=event_key[:200],
                    )
            except IntegrityError:
                continue  # this person has been told of this event already
            written.append(notification)
            _create_deliveries(notification, forced=forced)
    return written


def _create_deliveries(notification: Notification, *, forced: bool) -> None:
    rank = SEVERITY_RANK[notification.severity]
    for target in AlertTarget.objects.filter(owner=notification.recipient, active=True):
        if forced or SEVERITY_RANK[target.min_severity] <= rank:
            delivery = Delivery.objects.create(notification=notification, target=target)
            transaction.on_commit(lambda delivery_id=delivery.pk: queue_delivery(delivery_id))


def queue_delivery(delivery_id: int) -> bool:
    # By name: notifications.tasks imports this module.
    return queue_task("notifications.deliver", delivery_id=delivery_id)


# --- reading --------------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification, actor: AbstractBaseUser) -> None:
    Notification.objects.filter(pk=notification.pk, recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_mark_all_read(*, actor: AbstractBaseUser) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- targets --------------------------------------------------------------------------------


class TargetTestFailed(Exception):
    """The test alert did not get through; `error` says why (without secrets)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def message_for(
    kind: kinds.AlertKind, parameters: dict[str, str], link: str, *, language: str
) -> tuple[str, str]:
    """The title and body of an out-of-band message, in the recipient's language."""
    with translation.override(language or settings.LANGUAGE_CODE):
        title = _("Haven: %(what)s") % {"what": kind.label}
        text = kind.render(parameters)
    body = f"{text}\n{settings.HAVEN_BASE_URL}{link}" if link else text
    return str(title), body


def _send_test(url: str, owner: AbstractBaseUser) -> str:
    title, body = message_for(kinds.TEST, {}, "/", language=owner.preferred_language)
    return channels.send(url, title=title, body=body)


@transaction.atomic
def target_create(
    *,
    owner: AbstractBaseUser,
    label: str,
    url: str,
    min_severity: str,
    keep_if_test_fails: bool = False,
) -> AlertTarget:
    """Check the URL, send it a test alert, and save it. A failed test saves nothing unless the
    person chooses to keep the target, which is then saved as failing, with the error."""
    address = channels.describe(url)
    if min_severity not in Severity.values:
        raise AlertError("Unknown severity.")
    error = _send_test(url, owner)
    if error and not keep_if_test_fails:
        raise TargetTestFailed(error)
    return AlertTarget.objects.create(
        owner=owner,
        label=label.strip()[:100],
        url=url.strip(),
        scheme=address.scheme,
        display=address.display,
        min_severity=min_severity,
        last_tested_at=timezone.now(),
        last_test_ok=not error,
        last_error=error,
    )


@transaction.atomic
def target_test(*, target: AlertTarget, actor: AbstractBaseUser) -> str:
    """Send the owner's target a test alert now; records and returns the error ("" if sent)."""
    target = AlertTarget.objects.select_for_update().get(pk=target.pk, owner=actor)
    error = _send_test(target.url, actor)
    target.last_tested_at, target.last_test_ok, target.last_error = timezone.now(), not error, error
    target.save(update_fields=["last_tested_at", "last_test_ok", "last_error"])
    return error


def target_delete(*, target: AlertTarget, actor: AbstractBaseUser) -> None:
    AlertTarget.objects.filter(pk=target.pk, owner=actor).delete()


# --- delivery -------------------------------------------------------------------------------


def delivery_attempt(*, delivery_id: int) -> str:
    """Send one delivery once. Returns "" when it is sent (or was already), else the error.

    Locked while sending, so two workers never send the same delivery at once; a delivery that
    reaches HAVEN_ALERT_MAX_ATTEMPTS failures is marked failed, and the administrators are told."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("notification", "target", "notification__recipient")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != Delivery.Status.PENDING:
            return ""
        notification = delivery.notification
        title, body = message_for(
            kinds.get(notification.kind),
            notification.parameters,
            notification.link,
            language=notification.recipient.preferred_language,
        )
        error = channels.send(delivery.target.url, title=title, body=body)
        delivery.attempts += 1
        delivery.last_attempt_at = timezone.now()
        delivery.last_error = error
        if not error:
            delivery.status, delivery.sent_at = Delivery.Status.SENT, delivery.last_attempt_at
        elif delivery.attempts >= settings.HAVEN_ALERT_MAX_ATTEMPTS:
            delivery.status = Delivery.Status.FAILED
        delivery.save()
        if delivery.status == Delivery.Status.FAILED:
            notify(
                kind=kinds.DELIVERY_FAILING.code,
                recipients=[Role.ADMINISTRATOR],
                event_key=f"delivery-failed:{delivery.pk}",
                parameters={"count": delivery.attempts},
                link="/notifications/failing/",
            )
    return error


def deliveries_requeue(*, now: datetime.datetime | None = None) -> int:
    """Queue again the deliveries whose task was lost with a broker or a worker: never tried
    ten minutes after they were written, or not tried again long after the longest pause
    between retries. At least once, whatever happened to the first message."""
    now = now or timezone.now()
    pending = Delivery.objects.filter(status=Delivery.Status.PENDING)
    lost = pending.filter(
        last_attempt_at__isnull=True, created_at__lt=now - datetime.timedelta(minutes=10)
    ) | pending.filter(last_attempt_at__lt=now - datetime.timedelta(minutes=70))
    return sum(
        queue_delivery(delivery_id) for delivery_id in lost.values_list("pk", flat=True)[:1000]
    )


# --- exports ----------------------------------------------------------------------------------


def notify_export_finished(sender, *, job, **_kwargs) -> None:
    """Receiver of operations' export_finished: tell the person who asked, in the app."""
    ready = job.status == job.Status.READY
    notify(
        kind=(kinds.EXPORT_READY if ready else kinds.EXPORT_FAILED).code,
        recipients=[job.requested_by],
        event_key=f"export:{job.pk}:{job.status}",
        link=reverse("operations:export_detail", args=[job.pk]),
    )
