"""Login, second factor, staff list and emergency controls."""

from django.urls import path

from accounts import emergency_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("2fa/verify/", views.otp_verify, name="otp_verify"),
    path("2fa/enrol/", views.otp_enrol, name="otp_enrol"),
    path("staff/", views.staff_list, name="staff_list"),
    path("emergency/", emergency_views.emergency_home, name="emergency"),
    path("emergency/lock/", emergency_views.emergency_lock, name="emergency_lock"),
    path(
        "emergency/end-sessions/",
        emergency_views.emergency_end_sessions,
        name="emergency_end_sessions",
    ),
    path("emergency/revoke-device/", emergency_views.emergency_revoke, name="emergency_revoke"),
    path("emergency/locks/<int:pk>/lift/", emergency_views.emergency_lift, name="emergency_lift"),
]
