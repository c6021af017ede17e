"""Login, second factor, staff list and audit trail."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("2fa/verify/", views.otp_verify, name="otp_verify"),
    path("2fa/enrol/", views.otp_enrol, name="otp_enrol"),
    path("staff/", views.staff_list, name="staff_list"),
    path("audit/", views.audit_trail, name="audit_trail"),
    path("audit/access/", views.access_log, name="access_log"),
]
