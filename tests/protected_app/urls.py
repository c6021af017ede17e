"""URLs of the test-only views of protected_app."""

from django.urls import path

from tests.protected_app import views

urlpatterns = [
    path("records/<int:pk>/log/", views.log_record, name="protected_record_log"),
    path("records/<int:pk>/fail/", views.fail_on_record, name="protected_record_fail"),
]

handler500 = "tests.protected_app.views.server_error"
