"""Alerts: the list, marking read, alert targets, and alerts that could not be sent."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("read-all/", views.notification_read_all, name="read_all"),
    path("targets/", views.target_list, name="targets"),
    path("targets/test/", views.target_test, name="target_test"),
    path("targets/delete/", views.target_delete, name="target_delete"),
    path("failing/", views.failing_deliveries, name="failing"),
]
