"""Checking a code word heard from the person: "all clear", "DURESS" or "no match". The words
are hashed like passwords; every check is written to the access log (never the word), checks
are limited per journey and hour, and repeated misses alert the coordinators: an insider
guessing the words looks like that."""

from __future__ import annotations

import datetime
import unicodedata

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from audit.models import AccessLog
from audit.services import log_access
from cases.services import CaseError, case_set_emergency
from journeys.models import CodeWordCheck, CodeWordResult, Journey
from journeys.services.common import (
    RateLimited,
    handlers_in_charge,
    journey_link,
    lock,
    require_handler,
)
from notifications.services import notify
from protection.blind_indexes import western_digits

EMERGENCY_PERMISSION = "cases.manage_safety"


def normalise_word(word: str) -> str:
    """A word as heard over a bad line: case, spacing and digit script do not matter."""
    text = western_digits(unicodedata.normalize("NFC", str(word or "")))
    return " ".join(text.split()).casefold()


def _hour_ago() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=1)


def _compare(journey: Journey, word: str) -> str:
    heard = normalise_word(word)
    # Both hashes are always checked, so the time taken does not say which word matched.
    all_clear = check_password(heard, journey.all_clear_hash)
    duress = check_password(heard, journey.duress_hash)
    if duress:
        return CodeWordResult.DURESS
    if all_clear:
        return CodeWordResult.ALL_CLEAR
    return CodeWordResult.NO_MATCH


def check_locked(
    journey: Journey, *, actor: User, word: str, request: HttpRequest | None
) -> str | None:
    """Inside the caller's transaction, with the journey locked: the result, or None when the
    hour's limit is reached (logged as refused)."""
    checks = CodeWordCheck.objects.filter(journey=journey, at__gte=_hour_ago())
    target_label = journey.case.code
    if checks.count() >= settings.HAVEN_JOURNEY_CODE_WORD_CHECKS_PER_HOUR:
        log_access(
            action=AccessLog.Action.CODE_WORD_CHECKED,
            actor=actor,
            request=request,
            target=journey,
            target_label=target_label,
            detail={"result": "refused: limit reached"},
        )
        return None
    result = _compare(journey, word)
    CodeWordCheck.objects.create(journey=journey, by=actor, result=result)
    log_access(
        action=AccessLog.Action.CODE_WORD_CHECKED,
        actor=actor,
        request=request,
        target=journey,
        target_label=target_label,
        detail={"result": str(result)},
    )
    if result == CodeWordResult.NO_MATCH:
        misses = checks.filter(result=CodeWordResult.NO_MATCH).count()
        if misses >= settings.HAVEN_JOURNEY_NO_MATCH_ALERT_AFTER:
            hour = timezone.now().strftime("%Y%m%d%H")
            notify(
                kind="journeys.code_word_misses",
                recipients=[Role.JOURNEY_COORDINATOR],
                event_key=f"journeys.code_word_misses:{journey.pk}:{hour}",
                parameters={"case": journey.case.code, "count": misses},
                link=journey_link(journey.pk),
            )
    return result


def _raise_emergency(journey: Journey, actor: User) -> bool:
    """The case's emergency flag, through cases' own service. It needs a person who may manage
    safety: the handler if they may, else the case's case manager (the reason names who heard
    the word). Returns whether the flag is up."""
    case = journey.case
    raiser = actor if actor.has_perm(EMERGENCY_PERMISSION) else case.case_manager
    if raiser is None or not raiser.is_active or not raiser.has_perm(EMERGENCY_PERMISSION):
        return case.emergency
    reason = _("Duress word heard at a journey check-in recorded by %(username)s.") % {
        "username": actor.get_username()
    }
    try:
        with transaction.atomic():
            case_set_emergency(case=case, actor=raiser, emergency=True, reason=reason)
    except CaseError:
        pass  # already up, or the case was erased: the alerts below still go
    case.refresh_from_db(fields=["emergency"])
    return case.emergency


def duress_heard(journey: Journey, actor: User, *, event_key: str) -> None:
    """The duress word was heard, at a check-in or in a check of the word alone: the case's
    emergency flag goes up and the coordinators, the handlers and the administrators hear at
    once."""
    _raise_emergency(journey, actor)
    parameters = {"case": journey.case.code}
    notify(
        kind="journeys.duress",
        recipients=[Role.JOURNEY_COORDINATOR, *handlers_in_charge(journey)],
        event_key=event_key,
        parameters=parameters,
        link=journey_link(journey.pk),
    )
    # The administrators do not open journeys: their alert links nowhere.
    notify(
        kind="journeys.duress",
        recipients=[Role.ADMINISTRATOR],
        event_key=event_key,
        parameters=parameters,
    )


def code_word_check(
    *, journey: Journey, actor: User, word: str, request: HttpRequest | None = None
) -> str:
    """What the heard word is. Raises RateLimited (after logging the refusal) over the limit. A
    duress word raises the alarm here too: a handler who checks the word before recording the
    check-in must not be the only one who knows."""
    with transaction.atomic():
        journey = lock(journey)
        require_handler(actor, journey)
        result = check_locked(journey, actor=actor, word=word, request=request)
        if result == CodeWordResult.DURESS:
            check = CodeWordCheck.objects.filter(journey=journey, by=actor).latest("at", "pk")
            duress_heard(journey, actor, event_key=f"journeys.duress-check:{check.pk}")
    if result is None:
        raise RateLimited(
            _(
                "Too many code words were checked for this journey in the last hour. Wait, or ask "
                "a coordinator."
            )
        )
    return result
