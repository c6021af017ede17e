"""Pages of exports built in the background."""

from django.urls import path

from operations import views

app_name = "operations"

urlpatterns = [
    path("", views.export_list, name="exports"),
    path("<uuid:pk>/", views.export_detail, name="export_detail"),
    path("<uuid:pk>/download", views.export_download, name="export_download"),
    path("<uuid:pk>/again", views.export_again, name="export_again"),
]
