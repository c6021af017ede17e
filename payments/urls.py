"""Payment pages. URLs name cases, plans, batches, lines and one-off payments only by their
numbers in the database (and months as YYYY-MM), never by anything that identifies a person."""

from django.urls import path

from payments.views import batches, dashboard, exports, ledger, one_offs, payouts, plans, runs

app_name = "payments"

urlpatterns = [
    path("", batches.batch_list, name="batches"),
    path("run/", runs.run_month, name="run"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("ledger/", ledger.ledger, name="ledger"),
    path("cases/<int:pk>/plans/", plans.case_plans, name="case_plans"),
    path("plans/<int:pk>/status/", plans.plan_status, name="plan_status"),
    path("plans/<int:pk>/payout/", plans.plan_payout, name="plan_payout"),
    path("cases-without-plan/", plans.cases_without_plan, name="cases_without_plan"),
    path("batches/<int:pk>/", batches.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/approve/", batches.batch_approve, name="batch_approve"),
    path("batches/<int:pk>/record/", payouts.record_payouts, name="record"),
    path("batches/<int:pk>/settlement/", payouts.settlement, name="settlement"),
    path("batches/<int:pk>/payout/", payouts.take_for_payout, name="take_for_payout"),
    path("batches/<int:pk>/close/", payouts.batch_close, name="batch_close"),
    path("batches/<int:pk>/export/payroll-pdf/", exports.batch_pdf, name="batch_pdf"),
    path("batches/<int:pk>/export/transfers-csv/", exports.batch_csv, name="batch_csv"),
    path("batches/<int:pk>/export/transfers-xlsx/", exports.batch_xlsx, name="batch_xlsx"),
    path("lines/<int:pk>/carry-forward/", batches.carry_forward, name="carry_forward"),
    path("one-off/", one_offs.one_off_list, name="one_offs"),
    path("one-off/new/", one_offs.one_off_new, name="one_off_new"),
    path("one-off/<int:pk>/", one_offs.one_off_detail, name="one_off_detail"),
    path("one-off/<int:pk>/approve/", one_offs.one_off_approve, name="one_off_approve"),
    path("one-off/<int:pk>/reject/", one_offs.one_off_reject, name="one_off_reject"),
    path("one-off/<int:pk>/pay/", one_offs.one_off_pay, name="one_off_pay"),
]
