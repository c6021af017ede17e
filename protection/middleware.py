"""Every request gets an id for the logs and a scope for redacting protected values."""

from __future__ import annotations

import uuid
from collections.abc import Callable

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
