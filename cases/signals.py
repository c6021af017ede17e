"""Signals cases sends, for the apps that stand on it (cases imports none of them)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that records the stage "arrived at a safe location", with
# `case` and `actor`: what a receiver changes commits or rolls back with the stage.
case_arrived = Signal()

# Sent inside the transaction that takes back an arrival recorded by a bed (the bed was undone
# within housing's undo window), with `case`, `actor` and `arrived_at` (when the arrival was
# recorded): what the arrival stopped starts again, or rolls back with the undo.
case_arrival_undone = Signal()

# Sent inside the transaction that crypto-erases a case (its data key destroyed), with `case` and
# `actor`: apps that keep data about the person under keys of their own destroy them here, so
# that the erasure takes all of it or nothing.
case_erased = Signal()

# Sent inside the transaction that takes someone off a case's team (removed from it, or replaced
# as its verifier or case manager), with `case`, `actor` and `user`, once `user` is no longer on
# it: what they held for the case because they were on its team (a journey they handle) is
# looked at again.
case_team_left = Signal()
