"""A real local HTTP endpoint for alerts (Apprise's json:// target posts to it), and staff with
alert targets on it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifications.models import AlertTarget, Severity


@dataclass
class Endpoint:
    """Records what was posted to it; answers `status` (200, or an error to make it fail)."""

    port: int
    status: int = 200
    received: list[dict] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def url(self, path: str = "alerts/secret-token-4242") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.paths.append(self.path)
            if state.status == 200:
                state.received.append(json.loads(body or b"{}"))
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def target_for(endpoint):
    """An alert target of a member of staff on the local endpoint, saved without a test."""

    def make(owner, *, min_severity: str = Severity.INFO, path: str = "alerts/secret-token-4242"):
        return AlertTarget.objects.create(
            owner=owner,
            label="Phone",
            url=endpoint.url(path),
            scheme="json",
            display=f"json://127.0.0.1:{endpoint.port}/…",
            min_severity=min_severity,
        )

    return make
