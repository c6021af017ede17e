"""Housing pages. URLs name houses, rooms, beds, stays and cases only by their numbers in the
database, never by anything that identifies a person or a place."""

from django.urls import path

from housing import views

app_name = "housing"

urlpatterns = [
    path("", views.board, name="board"),
    path("waiting/", views.waiting_list, name="waiting_list"),
    path("allocate/", views.allocate, name="allocate"),
    path("stays/<int:pk>/check-out/", views.check_out, name="check_out"),
    path("stays/<int:pk>/transfer/", views.transfer, name="transfer"),
    path("cases/<int:pk>/", views.case_history, name="case_history"),
    path("houses/", views.houses, name="houses"),
    path("houses/new/", views.house_create, name="house_create"),
    path("houses/<int:pk>/", views.house_detail, name="house_detail"),
    path("houses/<int:pk>/edit/", views.house_edit, name="house_edit"),
    path("houses/<int:pk>/reveal/", views.house_reveal, name="house_reveal"),
    path("houses/<int:pk>/rooms/new/", views.room_create, name="room_create"),
    path("houses/<int:pk>/compromised/", views.compromise, name="compromise"),
    path("houses/<int:pk>/status/", views.house_status, name="house_status"),
    path("rooms/<int:pk>/beds/new/", views.bed_create, name="bed_create"),
    path("beds/<int:pk>/in-use/", views.bed_set_active, name="bed_set_active"),
    path("reports/", views.reports, name="reports"),
    path("reports/export.csv", views.reports_export, name="reports_export"),
]
