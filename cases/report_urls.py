"""The case reports, included by cases/urls.py under /cases/reports/ in the "cases" namespace
(deliberately no app_name here)."""

from django.urls import path

from cases import report_views

urlpatterns = [
    path("", report_views.reports, name="reports"),
    path("export.csv", report_views.reports_export, name="reports_export"),
]
