"""A model used only by the tests of the reusable protection helpers (installed in test settings)."""
