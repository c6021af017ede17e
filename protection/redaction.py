"""Keeps protected values out of log lines.

While a request or a task runs, every protected value it decrypts or encrypts is remembered
here; the logging filter replaces any of them, wherever it appears in a log line, by
`[redacted]`. Keys that name protected data (e.g. `real_name=`) are redacted whatever their
value.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

REDACTED = "[redacted]"
# Shorter values (an age, a one-letter initial) would turn every log line into noise.
MINIMUM_REMEMBERED_LENGTH = 4

# The id of the request (or task) being handled, for every log line written meanwhile.
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "haven_request_id", default=""
)

_protected_values: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "haven_protected_values", default=None
)


@contextmanager
def protected_values_scope() -> Iterator[set[str]]:
    """Collect the protected values handled by one request or task."""
    token = _protected_values.set(set())
    try:
        yield _protected_values.get()
    finally:
        _protected_values.reset(token)


def remember(value: object) -> None:
    values = _protected_values.get()
    if values is None or value is None:
        return
    text = str(value)
    if len(text) >= MINIMUM_REMEMBERED_LENGTH:
        values.add(text)


def redact(text: str) -> str:
    values = _protected_values.get()
    if not values or not text:
        return text
    # Longest first, so a full name is redacted before the surname inside it.
    for value in sorted(values, key=len, reverse=True):
        if value in text:
            text = text.replace(value, REDACTED)
    return text
