from django.apps import AppConfig


class ProtectedAppConfig(AppConfig):
    name = "tests.protected_app"
    label = "protected_app"
