"""Settings modules: base (shared), demo (development), test and production."""
