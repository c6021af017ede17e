"""The housing pages, a module per noun; housing/urls.py routes to them."""
