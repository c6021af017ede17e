"""Alert targets as Apprise URLs: which are allowed, how they are shown, and sending to one.

A target URL names a service and carries its secrets (a bot token, a password, a phone
number). Only the schemes in HAVEN_ALERT_SCHEMES are accepted; a scheme that names a server
(signal-cli's REST API, a Matrix homeserver, an SMTP server, a JSON endpoint) is accepted only
for a host in HAVEN_ALERT_HOSTS, so that no member of staff can make the server call an
address of the internal network."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise
from django.conf import settings
from django.utils.translation import gettext as _

# Schemes whose address is a fixed public service: the host part is not a server we call.
FIXED_SERVICE_SCHEMES = frozenset({"tgram"})
# What people call the schemes.
SERVICE_NAMES = {
    "tgram": "Telegram",
    "signal": "Signal",
    "signals": "Signal",
    "matrix": "Matrix",
    "matrixs": "Matrix",
    "mailto": "E-mail",
    "mailtos": "E-mail",
    "json": "JSON",
    "jsons": "JSON",
    "form": "Form",
    "forms": "Form",
}


class TargetError(ValueError):
    """A target URL Haven will not use; the message says why, without repeating the URL."""


@dataclass(frozen=True)
class TargetAddress:
    scheme: str
    display: str


def describe(url: str) -> TargetAddress:
    """Check a target URL and give its masked form; raises TargetError with the reason."""
    url = (url or "").strip()
    if "://" not in url:
        raise TargetError(
            _("This is not an Apprise URL: it must start with a scheme, such as tgram://.")
        )
    scheme = url.split("://", 1)[0].lower()
    if scheme not in settings.HAVEN_ALERT_SCHEMES:
        raise TargetError(
            _("Haven does not send alerts through %(scheme)s:// here. Allowed: %(allowed)s.")
            % {"scheme": scheme[:20], "allowed": ", ".join(sorted(settings.HAVEN_ALERT_SCHEMES))}
        )
    try:
        split = urlsplit(url)
        host, port = (split.hostname or "").lower(), split.port
    except ValueError as error:
        raise TargetError(_("This URL is malformed.")) from error
    fixed_service = scheme in FIXED_SERVICE_SCHEMES
    if not fixed_service and host not in settings.HAVEN_ALERT_HOSTS:
        raise TargetError(
            _(
                "Haven may not call the server %(host)s. An administrator allows servers with "
                "the HAVEN_ALERT_HOSTS setting."
            )
            % {"host": host[:100] or "?"}
        )
    if apprise.Apprise.instantiate(url) is None:
        raise TargetError(
            _("This URL is malformed or incomplete for %(service)s.")
            % {"service": SERVICE_NAMES.get(scheme, scheme)}
        )
    shown = "" if fixed_service else f"{host}:{port}" if port else host
    return TargetAddress(scheme=scheme, display=f"{scheme}://{shown}/…")


def secret_fragments(url: str) -> list[str]:
    """The parts of a URL that may be secret, longest first, for scrubbing error messages."""
    parts = [url]
    try:
        split = urlsplit(url)
        parts += [split.username or "", split.password or "", split.netloc, split.fragment]
        parts += [unquote(segment) for segment in split.path.split("/")]
        parts += [value for _name, value in parse_qsl(split.query)]
        parts += [split.hostname or ""]
    except ValueError:
        pass
    return sorted({part for part in parts if len(part) >= 3}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    for fragment in secret_fragments(url):
        text = text.replace(fragment, "***")
    return text[:300]


def send(url: str, *, title: str, body: str) -> str:
    """Send one message; returns "" when sent, else what went wrong, without any secret of the
    URL. Apprise's own log lines (which may quote the URL) are captured here and go nowhere
    else (settings: LOGGING sends the "apprise" logger to a null handler)."""
    notifier = apprise.Apprise()
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            added = notifier.add(url)
            sent = added and notifier.notify(title=title, body=body)
        except Exception as error:  # a plugin's bug must not look like success
            return scrub(f"{type(error).__name__}: {error}", url)
        log = captured.getvalue()
    if sent:
        return ""
    last_line = next((line for line in reversed(log.splitlines()) if line.strip()), "")
    return scrub(last_line.strip() or _("The service did not accept the alert."), url)
