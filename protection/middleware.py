"""Every request gets an id for the logs and a scope for redacting protected values; a query
string the admin's lists cannot read is refused before the admin runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse

from protection import redaction


class RequestLogContextMiddleware:
    """Gives every request an id for the logs and a scope for redacting protected values."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex
        token = redaction.current_request_id.set(request.request_id)
        try:
            with redaction.protected_values_scope():
                response = self.get_response(request)
        finally:
            redaction.current_request_id.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


# Where the admin site is mounted (config/urls.py).
ADMIN_PREFIX = "/admin/"
# The parts of a date a list filters by (the admin's date hierarchy: ?at__year=2026), each with
# the values it can take: the admin reaches for the next year, month or day, so 9999 is out.
DATE_PARTS = {"__year": range(1, 9999), "__month": range(1, 13), "__day": range(1, 32)}


class UnreadableQueryMiddleware:
    """Refuse, with the 400 page, an admin address whose query string holds a NUL character
    (PostgreSQL stores no NUL in text, so a list filtered by it fails) or a date part out of its
    range (an enormous year, or 9999, overflows the date hierarchy). The admin's lists,
    Haven's and the libraries' alike, filter by whatever the address says; Haven's own pages
    read their queries through forms and answer such values themselves."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(ADMIN_PREFIX):
            self.check(request)
        return self.get_response(request)

    @staticmethod
    def check(request: HttpRequest) -> None:
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise BadRequest("A NUL character in the query string.")
            part = next((part for part in DATE_PARTS if key.endswith(part)), None)
            if part is not None and not all(
                value.isascii()
                and value.isdigit()
                and len(value) <= 4
                and int(value) in DATE_PARTS[part]
                for value in values
            ):
                raise BadRequest("A date part in the query string is out of range.")
