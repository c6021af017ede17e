"""Journeys: safety plans before arrival, check-ins, and escalation of missed check-ins."""
