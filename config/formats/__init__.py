"""Date and number formats Django lacks for Haven's languages (FORMAT_MODULE_PATH)."""
