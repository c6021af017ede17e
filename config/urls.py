"""Top-level URL configuration. Every view requires login unless marked otherwise."""

from django.contrib import admin
from django.urls import include, path

from accounts.views import language
from config import dashboard
from operations import views as operations_views

urlpatterns = [
    path("", dashboard.dashboard, name="home"),
    path("healthz", operations_views.healthz, name="healthz"),
    path("favicon.ico", operations_views.favicon, name="favicon"),
    path("accounts/audit/", include("audit.urls")),
    path("accounts/", include("accounts.urls")),
    path("cases/", include("cases.urls")),
    path("housing/", include("housing.urls")),
    path("payments/", include("payments.urls")),
    path("journeys/", include("journeys.urls")),
    path("notifications/", include("notifications.urls")),
    path("exports/", include("operations.urls")),
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("admin/", admin.site.urls),
]
