"""The staff pages of cases, a module per noun; cases/urls.py routes to them."""
