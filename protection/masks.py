"""Masks: what roles that may not see a protected value see instead."""

from __future__ import annotations

from typing import Any

from protection.keys import Erased

# One mask for every value: no initials, no length, no shape. Letters beside a township, a unit
# type and a defection date come close to a name for someone holding the army's own lists.
MASK = "*****"


def mask(value: Any) -> str:
    """A display for those who may not see a protected value: always the same five stars."""
    if value is None or value == "":
        return ""
    if isinstance(value, Erased):
        return str(value)
    return MASK
