"""The errors every housing service raises: a refusal a coordinator can read and act on."""

from __future__ import annotations


class HousingError(Exception):
    """A housing change refused for a reason a person can read and act on."""


class BedNoLongerFreeError(HousingError):
    """Someone else took the bed first."""
