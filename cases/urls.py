"""Case pages. URLs name a case only by its number in the database, never by anything that
identifies the person."""

from django.urls import include, path

from cases import erasure_views, views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_intake, name="intake"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/identity/", views.case_identity, name="identity"),
    path("<int:pk>/family/", views.case_family, name="family"),
    path("<int:pk>/items/", views.case_items, name="items"),
    path("<int:pk>/checks/", views.case_checks, name="checks"),
    path("<int:pk>/evidence/", views.case_evidence, name="evidence"),
    path("<int:pk>/journey/", views.case_journey, name="journey"),
    path("<int:pk>/referrals/", views.case_referrals, name="referrals"),
    path("<int:pk>/notes/", views.case_notes, name="notes"),
    path("<int:pk>/history/", views.case_history, name="history"),
    path("<int:pk>/intake/family/", views.intake_family, name="intake_family"),
    path("<int:pk>/intake/items/", views.intake_items, name="intake_items"),
    path("<int:pk>/intake/review/", views.intake_review, name="intake_review"),
    path("<int:pk>/edit/", views.case_edit, name="edit"),
    path("<int:pk>/reveal/<slug:field>/", views.case_reveal, name="reveal"),
    path(
        "<int:pk>/family/<int:member_pk>/reveal/<slug:field>/",
        views.family_reveal,
        name="family_reveal",
    ),
    path(
        "<int:pk>/evidence/<int:evidence_pk>/download/",
        views.evidence_download,
        name="evidence_download",
    ),
    path("<int:pk>/verify/", views.case_verify, name="verify"),
    path("<int:pk>/decide/", views.case_decide, name="decide"),
    path("<int:pk>/withdraw/", views.case_withdraw, name="withdraw"),
    path("<int:pk>/reopen/", views.case_reopen, name="reopen"),
    path("<int:pk>/safety-plan/", views.case_safety_plan, name="safety_plan"),
    path("reports/", include("cases.report_urls")),
    path("<int:pk>/erase/", erasure_views.erasure_create, name="erasure_create"),
    path("erasure/", erasure_views.erasure_list, name="erasure_list"),
    path("erasure/<int:request_pk>/", erasure_views.erasure_detail, name="erasure_detail"),
    path(
        "erasure/<int:request_pk>/approve/", erasure_views.erasure_approve, name="erasure_approve"
    ),
    path("erasure/<int:request_pk>/reject/", erasure_views.erasure_reject, name="erasure_reject"),
    path("erasure/<int:request_pk>/cancel/", erasure_views.erasure_cancel, name="erasure_cancel"),
]
