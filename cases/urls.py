"""Case pages. URLs name a case only by its number in the database, never by anything that
identifies the person."""

from django.urls import path

from cases.views import (
    detail,
    erasure,
    history,
    intake,
    journey,
    lists,
    partners,
    reports,
    team,
    verification,
)

app_name = "cases"

urlpatterns = [
    path("", lists.case_list, name="list"),
    path("new/", intake.case_intake, name="intake"),
    path("duplicates/", lists.duplicate_list, name="duplicates"),
    path("partners/", partners.partner_list, name="partners"),
    path("<int:pk>/", detail.case_detail, name="detail"),
    path("<int:pk>/identity/", detail.case_identity, name="identity"),
    path("<int:pk>/family/", detail.case_family, name="family"),
    path("<int:pk>/items/", detail.case_items, name="items"),
    path("<int:pk>/checks/", detail.case_checks, name="checks"),
    path("<int:pk>/evidence/", detail.case_evidence, name="evidence"),
    path("<int:pk>/journey/", journey.case_journey, name="journey"),
    path("<int:pk>/referrals/", detail.case_referrals, name="referrals"),
    path("<int:pk>/notes/", detail.case_notes, name="notes"),
    path("<int:pk>/history/", history.case_history, name="history"),
    path("<int:pk>/team/", team.case_team, name="team"),
    path("<int:pk>/break-glass/", team.break_glass, name="break_glass"),
    path("break-glass/", team.break_glass_list, name="break_glass_list"),
    path("<int:pk>/intake/family/", intake.intake_family, name="intake_family"),
    path("<int:pk>/intake/items/", intake.intake_items, name="intake_items"),
    path("<int:pk>/intake/review/", intake.intake_review, name="intake_review"),
    path("<int:pk>/edit/", intake.case_edit, name="edit"),
    path("<int:pk>/reveal/<slug:field>/", detail.case_reveal, name="reveal"),
    path(
        "<int:pk>/family/<int:member_pk>/reveal/<slug:field>/",
        detail.family_reveal,
        name="family_reveal",
    ),
    path(
        "<int:pk>/evidence/<int:evidence_pk>/download/",
        detail.evidence_download,
        name="evidence_download",
    ),
    path("<int:pk>/verify/", verification.case_verify, name="verify"),
    path("<int:pk>/verifier/", verification.case_assign_verifier, name="assign_verifier"),
    path("<int:pk>/decide/", verification.case_decide, name="decide"),
    path("<int:pk>/withdraw/", verification.case_withdraw, name="withdraw"),
    path("<int:pk>/reopen/", verification.case_reopen, name="reopen"),
    path("<int:pk>/safety-plan/", journey.case_safety_plan, name="safety_plan"),
    path("reports/", reports.reports, name="reports"),
    path("reports/export.csv", reports.reports_export, name="reports_export"),
    path("<int:pk>/erase/", erasure.erasure_create, name="erasure_create"),
    path("erasure/", erasure.erasure_list, name="erasure_list"),
    path("erasure/<int:request_pk>/", erasure.erasure_detail, name="erasure_detail"),
    path("erasure/<int:request_pk>/approve/", erasure.erasure_approve, name="erasure_approve"),
    path("erasure/<int:request_pk>/reject/", erasure.erasure_reject, name="erasure_reject"),
    path("erasure/<int:request_pk>/cancel/", erasure.erasure_cancel, name="erasure_cancel"),
]
