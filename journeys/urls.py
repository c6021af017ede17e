"""Journey pages. URLs name journeys and cases only by their numbers in the database."""

from django.urls import path

from journeys.views import board, check_ins, debriefs, plans, reports

app_name = "journeys"

urlpatterns = [
    path("", plans.journey_list, name="list"),
    path("board/", board.journey_board, name="board"),
    path("reports/", reports.journey_reports, name="reports"),
    path("reports/export/", reports.journey_reports_export, name="reports_export"),
    path("plan/<int:pk>/", plans.journey_plan, name="plan"),
    path("<int:pk>/", plans.journey_detail, name="detail"),
    path("<int:pk>/arrived/", plans.journey_arrive, name="arrive"),
    path("<int:pk>/cancel/", plans.journey_cancel, name="cancel"),
    path("<int:pk>/handlers/", plans.journey_handlers, name="handlers"),
    path("<int:pk>/debrief/", debriefs.journey_debrief, name="debrief"),
    path("<int:pk>/check-in/", check_ins.check_in, name="check_in"),
    path("<int:pk>/code-word/", check_ins.code_word, name="code_word"),
    path("<int:pk>/incidents/<int:escalation_pk>/", check_ins.incident, name="incident"),
]
