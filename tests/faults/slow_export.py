"""A test-only export that takes a few seconds, a line at a time, so that a test can kill the
worker building it half-way. The worker imports it through CELERY_IMPORTS
(tests/faults/export_worker_settings.py); the test imports it to ask for it."""

from __future__ import annotations

import time

from operations import exports

LINES = 60
SECONDS_PER_LINE = 0.1


def _build(context: exports.ExportContext) -> exports.Built:
    context.progress.total(LINES)
    for number in range(LINES):
        context.output.write(f"line {number}\n".encode())
        time.sleep(SECONDS_PER_LINE)
        context.progress.advance()
    return exports.Built("slow.txt", "text/plain; charset=utf-8")


SLOW = exports.register(
    exports.ExportKind(
        code="tests.slow_export",
        label="Slow export (tests)",
        permission="payments.view_disbursementbatch",
        build=_build,
    )
)
