"""Reads for the staff list and the audit views, with their queries decided once."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice
from pghistory.models import Events

from accounts.models import AccessLog, User


def staff_list() -> QuerySet[User]:
    return (
        User.objects.annotate(
            has_second_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
        )
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
        .order_by("-is_active", "username")
    )


def history_events(*, model: str = "") -> QuerySet:
    events = Events.objects.order_by("-pgh_created_at", "-pgh_id")
    if model:
        events = events.filter(pgh_obj_model=model)
    return events


def history_models() -> list[str]:
    return sorted(Events.objects.values_list("pgh_obj_model", flat=True).distinct())


def usernames_by_id(ids: set) -> dict[str, str]:
    clean_ids = {int(value) for value in ids if str(value).isdigit()}
    return {
        str(pk): name
        for pk, name in User.objects.filter(pk__in=clean_ids).values_list("pk", "username")
    }


def access_log(*, action: str = "", username: str = "") -> QuerySet[AccessLog]:
    entries = AccessLog.objects.all()
    if action:
        entries = entries.filter(action=action)
    if username:
        entries = entries.filter(username__iexact=username)
    return entries
