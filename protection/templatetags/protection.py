"""Template filters for protected values."""

from django import template

from protection.masks import mask

register = template.Library()


@register.filter(name="masked")
def masked(value: object) -> str:
    """Show a protected value masked ("*****"), for roles that may not see it."""
    return mask(value)
