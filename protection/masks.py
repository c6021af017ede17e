"""Masks: what roles that may not see a protected value see instead."""

from __future__ import annotations

from typing import Any

from protection.keys import Erased


def mask(value: Any) -> str:
    """A display for roles that may not see a protected value: "Thura Aung" -> "Th*** A***".

    Always three stars, so the mask does not reveal the length. Dates and numbers are hidden
    whole.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, Erased):
        return str(value)
    if not isinstance(value, str) or any(character.isdigit() for character in value):
        return "*****"
    words = value.split()
    return " ".join(
        (word[:2] if position == 0 and len(word) > 2 else word[:1]) + "***"
        for position, word in enumerate(words)
    )
