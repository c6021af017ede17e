"""One-time links with which a staff member sets their own password: after a new account, a
reset, or a lifted lost-device lock. The administrator who approved shows the link to the staff
member in person (a QR code); only its hash is stored, it is valid HAVEN_SETUP_LINK_MINUTES and
works once, so nobody but the staff member ever knows the password."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import SetupLink, StaffRequest, User
from accounts.signals import password_set_by_link
from audit.models import AccessLog
from audit.services import audit_context, log_access


class SetupLinkError(Exception):
    """The link cannot set a password (unknown, used, expired); the message says what to do."""


# The query parameter that carries a link's token.
TOKEN_PARAMETER = "t"  # noqa: S105 (a parameter name, not a secret)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def setup_link_issue(*, user: User, staff_request: StaffRequest | None = None) -> str:
    """A new link for `user` (earlier unused ones stop working); returns the token, which is
    not stored and must be shown at once."""
    now = timezone.now()
    SetupLink.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    token = secrets.token_urlsafe(32)
    SetupLink.objects.create(
        user=user,
        token_hash=_hash(token),
        request=staff_request,
        expires_at=now + datetime.timedelta(minutes=settings.HAVEN_SETUP_LINK_MINUTES),
    )
    return token


def setup_link_path(token: str) -> str:
    """The link's path. The token is in the query string, which the web servers' access logs
    leave out (deploy/): a path would write a live token into them."""
    return f"{reverse('accounts:setup_password')}?{urlencode({TOKEN_PARAMETER: token})}"


def setup_link_url(token: str) -> str:
    return settings.HAVEN_BASE_URL + setup_link_path(token)


def _usable(link: SetupLink | None) -> SetupLink:
    if link is None:
        raise SetupLinkError(_("This link is not valid. Ask an administrator for a new one."))
    if link.used_at is not None:
        raise SetupLinkError(
            _("This link has already been used. Ask an administrator for a new one.")
        )
    if link.expires_at <= timezone.now():
        raise SetupLinkError(_("This link has expired. Ask an administrator for a new one."))
    if not link.user.is_active:
        raise SetupLinkError(_("Your account is locked. Contact your administrator."))
    return link


def setup_link_check(token: str) -> SetupLink:
    """The link of this token if it can still set a password, else SetupLinkError."""
    return _usable(SetupLink.objects.select_related("user").filter(token_hash=_hash(token)).first())


def setup_link_use(*, token: str, password: str, request: HttpRequest | None = None) -> User:
    """Set the staff member's own password, once: a second use, or a use after the link
    expired, is refused and changes nothing."""
    with transaction.atomic():
        link = _usable(
            SetupLink.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=_hash(token))
            .first()
        )
        user = link.user
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise SetupLinkError(" ".join(error.messages)) from error
        with audit_context(actor=user, action="accounts.password_set"):
            user.set_password(password)
            user.save(update_fields=["password"])
            link.used_at = timezone.now()
            link.save(update_fields=["used_at"])
        log_access(
            action=AccessLog.Action.PASSWORD_SET,
            actor=user,
            request=request,
            target=user,
            target_label=user.get_username(),
            detail={"request": link.request_id},
        )
    reset_login_failures(username=user.get_username())
    password_set_by_link.send(sender=User, user=user)
    return user
