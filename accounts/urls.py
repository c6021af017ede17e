"""Login, second factor, staff list and emergency controls."""

from django.urls import path

from accounts.views import budgets, emergency, login, staff, staff_requests

app_name = "accounts"

urlpatterns = [
    path("login/", login.LoginView.as_view(), name="login"),
    path("logout/", login.logout_view, name="logout"),
    path("2fa/verify/", login.otp_verify, name="otp_verify"),
    path("2fa/enrol/", login.otp_enrol, name="otp_enrol"),
    path("staff/", staff.staff_list, name="staff_list"),
    path("staff/requests/", staff_requests.staff_request_list, name="staff_requests"),
    path("staff/requests/new/", staff_requests.staff_request_new, name="staff_request_new"),
    path("staff/requests/<int:pk>/", staff_requests.staff_request_detail, name="staff_request"),
    path("password/", staff_requests.setup_password, name="setup_password"),
    path("reveal-budgets/", budgets.reveal_budgets, name="reveal_budgets"),
    path("emergency/", emergency.emergency_home, name="emergency"),
    path("emergency/lock/", emergency.emergency_lock, name="emergency_lock"),
    path(
        "emergency/end-sessions/",
        emergency.emergency_end_sessions,
        name="emergency_end_sessions",
    ),
    path("emergency/revoke-device/", emergency.emergency_revoke, name="emergency_revoke"),
    path("emergency/locks/<int:pk>/lift/", emergency.emergency_lift, name="emergency_lift"),
]
