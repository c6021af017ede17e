"""The audit pages (under /accounts/audit/, where they have always been)."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_trail, name="audit_trail"),
    path("access/", views.access_log, name="access_log"),
]
