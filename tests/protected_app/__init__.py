"""A model used only by the tests of the protection helpers (installed in test settings)."""
