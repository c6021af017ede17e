"""Template filters for roles: a role is stored as a group's (English) name, shown translated."""

from django import template

from accounts.roles import role_label

register = template.Library()


@register.filter(name="role_label")
def role_label_filter(group_name: str) -> str:
    """The role's name in the reader's language; a group that is not a role keeps its name."""
    return role_label(group_name)
