"""Reads of notifications: a person's alerts and unread count, failing deliveries."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Case, IntegerField, QuerySet, Value, When

from notifications.models import AlertTarget, Delivery, Notification, Severity


def notifications_for(user: AbstractBaseUser) -> QuerySet[Notification]:
    """Unread first, and among them the urgent ones, then newest first."""
    return Notification.objects.filter(recipient=user).order_by(
        Case(
            When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
        ),
        Case(
            When(severity=Severity.URGENT, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "-created_at",
        "-pk",
    )


def unread_count(user: AbstractBaseUser) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def unread_urgent(user: AbstractBaseUser) -> QuerySet[Notification]:
    return Notification.objects.filter(
        recipient=user, read_at__isnull=True, severity=Severity.URGENT
    ).order_by("-created_at", "-pk")


def targets_of(user: AbstractBaseUser) -> QuerySet[AlertTarget]:
    # The encrypted URL is never loaded for a list: it is not needed to show a target.
    return AlertTarget.objects.filter(owner=user).defer("url").order_by("label", "pk")


def failing_deliveries() -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(status=Delivery.Status.FAILED)
        .select_related("notification", "target__owner")
        .defer("target__url")
        .order_by("-last_attempt_at", "-pk")
    )
