"""Housing pages. URLs name houses, rooms, beds, stays and cases only by their numbers in the
database, never by anything that identifies a person or a place."""

from django.urls import path

from housing.views import allocations, board, houses, reports

app_name = "housing"

urlpatterns = [
    path("", board.board, name="board"),
    path("waiting/", board.waiting_list, name="waiting_list"),
    path("allocate/", allocations.allocate, name="allocate"),
    path("stays/<int:pk>/check-out/", allocations.check_out, name="check_out"),
    path("stays/<int:pk>/transfer/", allocations.transfer, name="transfer"),
    path("stays/<int:pk>/undo/", allocations.undo, name="undo"),
    path("cases/<int:pk>/", allocations.case_history, name="case_history"),
    path("cases/<int:pk>/move/", allocations.household_move, name="household_move"),
    path("houses/", houses.houses, name="houses"),
    path("houses/new/", houses.house_create, name="house_create"),
    path("houses/<int:pk>/", houses.house_detail, name="house_detail"),
    path("houses/<int:pk>/edit/", houses.house_edit, name="house_edit"),
    path("houses/<int:pk>/reveal/", houses.house_reveal, name="house_reveal"),
    path("houses/<int:pk>/rooms/new/", houses.room_create, name="room_create"),
    path("houses/<int:pk>/compromised/", houses.compromise, name="compromise"),
    path("houses/<int:pk>/status/", houses.house_status, name="house_status"),
    path("rooms/<int:pk>/beds/new/", houses.bed_create, name="bed_create"),
    path("beds/<int:pk>/in-use/", houses.bed_set_active, name="bed_set_active"),
    path("reports/", reports.reports, name="reports"),
    path("reports/export.csv", reports.reports_export, name="reports_export"),
]
