"""Payment pages. URLs name cases, plans, batches, lines and one-off payments only by their
numbers in the database (and months as YYYY-MM), never by anything that identifies a person."""

from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("", views.batch_list, name="batches"),
    path("run/", views.run_month, name="run"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("ledger/", views.ledger, name="ledger"),
    path("cases/<int:pk>/plans/", views.case_plans, name="case_plans"),
    path("plans/<int:pk>/status/", views.plan_status, name="plan_status"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/approve/", views.batch_approve, name="batch_approve"),
    path("batches/<int:pk>/record/", views.record_payouts, name="record"),
    path("batches/<int:pk>/close/", views.batch_close, name="batch_close"),
    path("batches/<int:pk>/payroll.pdf", views.batch_pdf, name="batch_pdf"),
    path("batches/<int:pk>/transfers.csv", views.batch_csv, name="batch_csv"),
    path("batches/<int:pk>/transfers.xlsx", views.batch_xlsx, name="batch_xlsx"),
    path("lines/<int:pk>/carry-forward/", views.carry_forward, name="carry_forward"),
    path("one-off/", views.one_off_list, name="one_offs"),
    path("one-off/new/", views.one_off_new, name="one_off_new"),
    path("one-off/<int:pk>/", views.one_off_detail, name="one_off_detail"),
    path("one-off/<int:pk>/approve/", views.one_off_approve, name="one_off_approve"),
    path("one-off/<int:pk>/reject/", views.one_off_reject, name="one_off_reject"),
    path("one-off/<int:pk>/pay/", views.one_off_pay, name="one_off_pay"),
]
