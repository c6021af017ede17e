"""The kinds of alert, each with its severity and its message. A message is made only from
parameters of a few safe shapes (a case code, a task's dotted name, a number), so no alert can
carry a name, a place, a service number or a code word: `notify` refuses anything else.

Apps register their own kinds in their AppConfig.ready(); the platform's are below."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The only shapes a parameter may take.
PARAMETER_SHAPES: dict[str, re.Pattern[str]] = {
    # A pseudonymous case code, e.g. HV-2026-00042.
    "case": re.compile(r"HV-\d{4}-\d{5}"),
    # A Celery task's dotted name, e.g. accounts.backup_nightly: lower-case ASCII with a dot.
    "task": re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+"),
    "count": re.compile(r"\d{1,7}"),
    "minutes": re.compile(r"\d{1,7}"),
}


class AlertError(ValueError):
    """An alert that would break the rules of alerts (unknown kind, unsafe parameter, bad link)."""


@dataclass(frozen=True)
class AlertKind:
    code: str
    label: str | Promise
    severity: str
    message: str | Promise
    parameters: tuple[str, ...] = ()

    def render(self, parameters: dict[str, str]) -> str:
        return str(self.message) % {name: parameters.get(name, "") for name in self.parameters}


_kinds: dict[str, AlertKind] = {}


def register(kind: AlertKind) -> AlertKind:
    unknown = set(kind.parameters) - set(PARAMETER_SHAPES)
    if unknown:
        raise AlertError(f"Alert kind {kind.code} uses unknown parameters {sorted(unknown)}.")
    _kinds[kind.code] = kind
    return kind


def get(code: str) -> AlertKind:
    try:
        return _kinds[code]
    except KeyError as error:
        raise AlertError(f"Unknown alert kind {code!r}.") from error


def all_kinds() -> list[AlertKind]:
    return sorted(_kinds.values(), key=lambda kind: kind.code)


def clean_parameters(kind: AlertKind, parameters: dict[str, object]) -> dict[str, str]:
    """The parameters as stored: exactly the kind's, each of its safe shape."""
    extra = set(parameters) - set(kind.parameters)
    missing = set(kind.parameters) - set(parameters)
    if extra or missing:
        raise AlertError(
            f"Alert {kind.code} takes {list(kind.parameters)}, not {sorted(parameters)}."
        )
    cleaned = {}
    for name, value in parameters.items():
        text = str(value)
        if not PARAMETER_SHAPES[name].fullmatch(text):
            raise AlertError(f"Alert {kind.code}: the {name} parameter has an unsafe shape.")
        cleaned[name] = text
    return cleaned


def render(code: str, parameters: dict[str, str]) -> str:
    try:
        kind = _kinds[code]
    except KeyError:
        return str(_("An alert of a kind this version of Haven does not know."))
    return kind.render(parameters)


TEST = register(
    AlertKind(
        code="notifications.test",
        label=_("Test alert"),
        severity="info",
        message=_("Test alert from Haven: alerts reach you here."),
    )
)
DELIVERY_FAILING = register(
    AlertKind(
        code="notifications.delivery_failing",
        label=_("Alert not delivered"),
        severity="warning",
        message=_(
            "An alert could not be sent after %(count)s attempts. See the alerts that could "
            "not be sent."
        ),
        parameters=("count",),
    )
)
TASK_LATE = register(
    AlertKind(
        code="operations.task_late",
        label=_("Scheduled task late"),
        severity="urgent",
        message=_("The scheduled task %(task)s has not run for %(minutes)s minutes."),
        parameters=("task", "minutes"),
    )
)
TASK_RECOVERED = register(
    AlertKind(
        code="operations.task_recovered",
        label=_("Scheduled task running again"),
        severity="info",
        message=_("The scheduled task %(task)s runs again."),
        parameters=("task",),
    )
)
EXPORT_READY = register(
    AlertKind(
        code="operations.export_ready",
        label=_("Export ready"),
        severity="info",
        message=_("The file you asked for is ready to download."),
    )
)
EXPORT_FAILED = register(
    AlertKind(
        code="operations.export_failed",
        label=_("Export failed"),
        severity="warning",
        message=_("The file you asked for could not be built. Its page says why."),
    )
)
