"""Housing: safe houses, rooms and beds, and allocations that can never double-book."""
