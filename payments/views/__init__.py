"""The payment pages, a module per noun; payments/urls.py routes to them."""
