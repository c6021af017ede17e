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
from journeys.models import CodeWordCheck, CodeWordResult, Journey
from journeys.services.common import RateLimited, journey_link, lock, require_handler
from notifications.services import notify

# Myanmar digits are the same numbers as Western ones (SPEC: cross-cutting).
_MYANMAR_DIGITS = str.maketrans("၀၁၂၃၄၅၆၇၈၉", "0123456789")


def normalise_word(word: str) -> str:
    """A word as heard over a bad line: case, spacing and digit script do not matter."""
    text = unicodedata.normalize("NFC", str(word or "")).translate(_MYANMAR_DIGITS)
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


def code_word_check(
    *, journey: Journey, actor: User, word: str, request: HttpRequest | None = None
) -> str:
    """What the heard word is. Raises RateLimited (after logging the refusal) over the limit."""
    with transaction.atomic():
        journey = lock(journey)
        require_handler(actor, journey)
        result = check_locked(journey, actor=actor, word=word, request=request)
    if result is None:
        raise RateLimited(
            _(
                "Too many code words were checked for this journey in the last hour. Wait, or ask "
                "a coordinator."
            )
        )
    return result
