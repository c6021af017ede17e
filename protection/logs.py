"""Logging helpers: the filter that keeps protected values out of every log line."""

from __future__ import annotations

import logging

from protection import redaction

# Attributes of a log record that callers might fill with protected data through `extra=`.
PROTECTED_KEYS = frozenset(
    {
        "real_name",
        "name",
        "alias",
        "service_number",
        "national_id",
        "national_id_number",
        "phone",
        "date_of_birth",
        "address",
        "family_name",
        "password",
        "token",
        "otp_token",
    }
)
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class RedactProtectedValuesFilter(logging.Filter):
    """Redacts protected values from the message, its arguments, extras and tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A filter that raised would crash the caller, and the handler's own error report
            # prints the raw arguments to stderr; keep the template, drop the arguments.
            message = f"{record.msg} [log arguments could not be formatted]"
        record.msg, record.args = redaction.redact(message), None
        for key in list(record.__dict__):
            if key in _STANDARD_ATTRIBUTES:
                continue
            value = record.__dict__[key]
            if key in PROTECTED_KEYS:
                setattr(record, key, redaction.REDACTED)
            elif isinstance(value, str):
                setattr(record, key, redaction.redact(value))
            elif value is not None and not isinstance(value, bool) and key != "request":
                # Formatters print other objects (dicts, lists, numbers) through str().
                try:
                    text = str(value)
                except Exception:  # noqa: S112  (what cannot be printed cannot leak either)
                    continue
                redacted = redaction.redact(text)
                if redacted != text:
                    setattr(record, key, redacted)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Formatters print exc_text when exc_info is gone, so only the redacted text is left.
            record.exc_text, record.exc_info = redaction.redact(record.exc_text), None
        if record.stack_info:
            record.stack_info = redaction.redact(record.stack_info)
        if not getattr(record, "request_id", None):
            # django.request logs after the middleware has finished, but passes the request.
            record.request_id = getattr(
                getattr(record, "request", None), "request_id", redaction.current_request_id.get()
            )
        # The request object carries POST data; a formatter must never print it.
        if hasattr(record, "request"):
            record.request = "<request>"
        return True


class RefusalAsInfoFilter(logging.Filter):
    """A page refused with 403 is routine (a role without the permission, a stale link): one
    INFO line, not a WARNING with the PermissionDenied traceback that Django attaches. The
    refusal itself is in the access log (accounts/permissions.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.levelno == logging.WARNING:
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
            record.exc_info, record.exc_text = None, None
        return True
