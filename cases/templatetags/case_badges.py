"""A case's status and risk as badges: tags in Python, not included templates, because the case
list draws two for each of its rows and an include costs a template context each time."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

STATUS_STYLES = {
    "intake": "text-bg-secondary",
    "verifying": "text-bg-info",
    "verified": "text-bg-success",
    "rejected": "text-bg-danger",
}
RISK_STYLES = {"critical": "text-bg-danger", "high": "text-bg-warning"}


@register.simple_tag
def status_badge(status: str, label: str) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>', STATUS_STYLES.get(status, "text-bg-dark"), label
    )


@register.simple_tag
def risk_badge(risk: str, label: str) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>', RISK_STYLES.get(risk, "text-bg-light border"), label
    )
