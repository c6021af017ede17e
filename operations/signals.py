"""Signals of the platform's operations, for the apps above it (operations imports none of them)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once an export job is ready or has failed, after its transaction commits, with `job`:
# notifications tells the person who asked for it.
export_finished = Signal()
