"""Template filters for protected values."""

import datetime

from django import template
from django.utils import formats

from protection.masks import mask

register = template.Library()


@register.filter(name="masked")
def masked(value: object) -> str:
    """Show a protected value masked ("*****"), for roles that may not see it."""
    return mask(value)


@register.filter(name="day_or_month")
def day_or_month(value: datetime.date | None, may_reveal: bool) -> str:
    """A date as its day to those who may reveal, as its month to everyone else (beside the
    coarse facts, the exact day narrows a person down)."""
    if not value:
        return ""
    if isinstance(value, str):  # an erased date reads "[erased]"
        return value
    return formats.date_format(value, "DATE_FORMAT" if may_reveal else "YEAR_MONTH_FORMAT")
