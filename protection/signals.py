"""Opens a redaction scope around every Celery task, as the middleware does around requests."""

from __future__ import annotations

from typing import Any

from celery.signals import task_postrun, task_prerun

from protection import redaction

# Celery tasks get the same protection against protected values in logs as requests do.
_task_scopes: dict[str, object] = {}


@task_prerun.connect(dispatch_uid="haven_task_redaction_scope_start")
def _start_task_redaction_scope(task_id: str, **kwargs: Any) -> None:
    scope = redaction.protected_values_scope()
    scope.__enter__()
    _task_scopes[task_id] = scope


@task_postrun.connect(dispatch_uid="haven_task_redaction_scope_end")
def _end_task_redaction_scope(task_id: str, **kwargs: Any) -> None:
    scope = _task_scopes.pop(task_id, None)
    if scope is not None:
        scope.__exit__(None, None, None)
