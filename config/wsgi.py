"""WSGI entry point for gunicorn."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

# What start-up loaded (Django, the apps, their models) lives as long as the worker: frozen out of
# the garbage collector's generations, full collections stop walking it again on every request.
gc.freeze()
