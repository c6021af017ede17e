"""Journey pages, a module per noun."""
