"""Need-to-know (issue 14): a case's people are for its team, a break-the-glass opens a case for a
limited time and is reviewed by someone else, reveals have a daily budget only a second person
raises, and nobody puts themselves on a team. Each attack is tried as a member of staff would,
through the pages, direct POSTs and the admin."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts import budgets
from accounts.models import RevealAllowance
from accounts.roles import Role
from accounts.services import protected_field_reveal
from audit.models import AccessLog
from cases import selectors, services
from cases.choices import CheckItem
from cases.models import BreakGlass, Case, CaseTeamMember, VerificationCheck
from cases.rules import SEE_IDENTITY
from notifications.models import Notification
from tests.factories import CaseFactory, add_to_team, assign_verifier

pytestmark = pytest.mark.django_db

NAME = "Ko Htet Naing Oo"


def url(name: str, case: Case, **kwargs) -> str:
    return reverse(f"cases:{name}", kwargs={"pk": case.pk, **kwargs})


def denied(actor) -> list[AccessLog]:
    return list(AccessLog.objects.filter(actor=actor, action=AccessLog.Action.DENIED))


@pytest.fixture
def case(intake_officer):
    return CaseFactory(real_name=NAME, intake_officer=intake_officer, township="Kalay")


@pytest.fixture
def member(make_staff, case):
    """A verifier on the case's team."""
    return (
        assign_verifier(case, make_staff(Role.VERIFIER)) and Case.objects.get(pk=case.pk).verifier
    )


@pytest.fixture
def outsider(make_staff):
    """A verifier with the reveal permission, on no team."""
    return make_staff(Role.VERIFIER)


# --- the rule, one place --------------------------------------------------------------------------


def test_the_team_sees_others_of_the_same_role_do_not(case, member, outsider, intake_officer):
    assert member.has_perm(SEE_IDENTITY, case)
    assert intake_officer.has_perm(SEE_IDENTITY, case)  # who took it in
    assert not outsider.has_perm(SEE_IDENTITY, case)
    # The list annotation agrees with the rule, for each of them.
    for user, expected in ((member, True), (intake_officer, True), (outsider, False)):
        listed = selectors.case_list(filters=selectors.CaseFilters(), user=user).get(pk=case.pk)
        assert listed.sees_identity is expected


def test_a_team_member_without_the_reveal_permission_still_sees_nothing(case, make_staff, auditor):
    add_to_team(case, auditor)
    assert not auditor.has_perm(SEE_IDENTITY, case)


# --- revealing: page, htmx, direct POST, evidence, edit form, admin -------------------------------


def test_same_role_outsider_is_refused_every_reveal_and_each_refusal_is_logged(
    login, case, outsider
):
    client = login(outsider)
    page = client.get(url("identity", case)).content.decode()
    assert NAME not in page and "not on this case" in page
    assert url("break_glass", case) in page
    # A direct POST, as a script would make it.
    response = client.post(url("reveal", case, field="real_name"), follow=True)
    assert NAME not in response.content.decode()
    assert "Ask its case manager to add you" in response.content.decode()
    htmx = client.post(url("reveal", case, field="real_name"), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and NAME not in htmx.content.decode()
    # The edit form shows the identity in clear: refused too.
    assert client.get(url("edit", case)).status_code in (302, 403)
    assert not AccessLog.objects.filter(action=AccessLog.Action.REVEAL).exists()
    assert len(denied(outsider)) >= 2
    assert {entry.target_label for entry in denied(outsider)} == {case.code}


def test_team_member_reveals_and_it_is_logged(login, case, member):
    response = login(member).post(url("reveal", case, field="real_name"), HTTP_HX_REQUEST="true")
    assert NAME in response.content.decode()
    entry = AccessLog.objects.get(action=AccessLog.Action.REVEAL)
    assert (entry.actor, entry.target_label, entry.field) == (member, case.code, "real_name")


def test_outside_the_team_township_and_day_are_coarse_on_every_page(login, case, outsider, member):
    case.contact_date = datetime.date(2025, 6, 17)
    case.save(update_fields=["contact_date"])
    client = login(outsider)
    for page in (
        client.get(url("detail", case)).content.decode(),
        client.get(reverse("cases:list")).content.decode(),
        client.get(url("history", case)).content.decode(),
    ):
        assert "Kalay" not in page
        assert "17 Jun" not in page and "June 17" not in page and "2025-06-17" not in page
    assert "June 2025" in client.get(url("detail", case)).content.decode()
    member_page = login(member).get(url("detail", case)).content.decode()
    assert "Kalay" in member_page and "17 Jun 2025" in member_page


def test_a_search_by_number_finds_only_ones_own_cases_and_says_whom_to_ask(
    login, make_staff, outsider
):
    manager = make_staff(Role.CASE_MANAGER)
    hidden = CaseFactory(service_number="BA-330001", case_manager=manager)
    response = login(outsider).post(reverse("cases:list"), {"q": "BA-330001"})
    page = response.content.decode()
    assert hidden.code not in page
    assert "A case outside your cases matches" in page and str(manager) in page
    assert AccessLog.objects.filter(actor=outsider, action=AccessLog.Action.LOOKUP).exists()


def test_the_intake_duplicate_check_is_a_counted_look_up_without_an_oracle(
    login, make_staff, settings
):
    settings.HAVEN_LOOKUP_LIMIT_PER_HOUR = 1
    make_staff(Role.ADMINISTRATOR)
    existing = CaseFactory(service_number="BA-330002")
    officer = make_staff(Role.INTAKE_OFFICER)
    client = login(officer)
    form = {
        "real_name": "Ko Aung",
        "service_number": "BA-330002",
        "contact_date": timezone.localdate().isoformat(),
        "channel": "phone",
        "region": "sagaing",
        "force": "army",
        "rank": "private",
        "urgency": "routine",
        "risk_level": "medium",
    }
    page = client.post(reverse("cases:intake"), form).content.decode()
    assert "already on file" in page
    assert existing.code not in page and "A case outside your cases" in page
    assert AccessLog.objects.filter(actor=officer, action=AccessLog.Action.LOOKUP).count() == 1
    # Over the hourly limit: refused with a clear message, nothing saved.
    count = Case.objects.count()
    page = client.post(reverse("cases:intake"), {**form, "service_number": "BA-330003"})
    assert "the most allowed" in page.content.decode()
    assert Case.objects.count() == count
    assert Notification.objects.filter(kind="cases.lookup_limit").exists()


def test_admin_shows_identity_and_exact_details_only_to_the_team(login, case, make_staff):
    def admin_user():
        user = make_staff(Role.ADMINISTRATOR, is_staff=True)
        for app_label, codename in (
            ("cases", "view_case"),
            ("cases", "change_case"),
            ("accounts", "reveal_identity"),
        ):
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return user

    change = reverse("admin:cases_case_change", args=[case.pk])
    outside, inside = admin_user(), admin_user()
    add_to_team(case, inside)
    outside_page = login(outside).get(change).content.decode()
    assert NAME not in outside_page and "Kalay" not in outside_page
    assert 'name="real_name"' not in outside_page and 'name="township"' not in outside_page
    inside_page = login(inside).get(change).content.decode()
    assert NAME in inside_page and 'name="township"' in inside_page
    assert AccessLog.objects.filter(actor=inside, action=AccessLog.Action.REVEAL).exists()
    assert not AccessLog.objects.filter(actor=outside, action=AccessLog.Action.REVEAL).exists()


def test_notes_and_evidence_are_the_teams(login, case, member, outsider):
    services.case_note_add(case=case, actor=member, text="His brother lives near the bridge")
    assert "bridge" in login(member).get(url("notes", case)).content.decode()
    assert "bridge" not in login(outsider).get(url("notes", case)).content.decode()
    with pytest.raises(PermissionDenied):
        services.case_note_add(case=case, actor=outsider, text="x")


def test_check_notes_and_the_proposal_are_the_teams(login, case, member, outsider, case_manager):
    services.case_start_verification(case=case, actor=member)
    check = VerificationCheck.objects.create(case=case, item=CheckItem.IDENTITY_DOCUMENT)
    services.verification_check_record(
        check=check, actor=member, result="passed", notes="ID card 12/MaYaNa(N)123456 seen"
    )
    inside = login(member)
    assert "123456" in inside.get(url("checks", case)).content.decode()
    outside = login(outsider)
    for page in ("checks", "verify"):
        body = outside.get(url(page, case)).content.decode()
        assert "123456" not in body, page
    assert "(notes recorded)" in outside.get(url("checks", case)).content.decode()
    # Nor does a verifier outside the team write them.
    with pytest.raises(services.CaseError):
        services.verification_check_record(check=check, actor=outsider, result="failed")
    check.refresh_from_db()
    assert check.result == "passed"
    # The case manager deciding reads what they decide on, while the case awaits a decision.
    assert "123456" in login(case_manager).get(url("decide", case)).content.decode()
    # The reasons on the summary tab are the team's too.
    services.case_propose_decision(
        case=case, actor=member, decision="rejected", reason="Brother 12/MaYaNa(N)654321 vouched"
    )
    assert "654321" in inside.get(url("detail", case)).content.decode()
    for page in ("detail", "checks", "verify", "history"):
        body = outside.get(url(page, case)).content.decode()
        assert "654321" not in body, page
    assert "(hidden text)" in outside.get(url("detail", case)).content.decode()


def test_the_admin_filters_by_no_detail_kept_from_outsiders(login, make_staff):
    auditor = make_staff(Role.AUDITOR, is_staff=True)
    CaseFactory(unit_type="signals")
    changelist = reverse("admin:cases_case_changelist")
    client = login(auditor)
    assert client.get(changelist).status_code == 200
    for guess in ("unit_type=signals", "unit_type=artillery", "township__icontains=a", "rank=x"):
        response = client.get(f"{changelist}?{guess}")
        # Django's answer to a filter it does not allow: the 400 page, nothing listed.
        assert response.status_code == 400, guess
        assert b"signals" not in response.content


def test_the_history_admin_coarsens_what_the_audit_trail_coarsens(login, make_staff):
    case = CaseFactory(unit_type="infantry")
    Case.objects.filter(pk=case.pk).update(unit_type="signals")
    administrator = make_staff(Role.ADMINISTRATOR, is_staff=True)
    page = login(administrator).get("/admin/pghistory/events/?model=cases.Case").content.decode()
    assert "unit_type:" in page
    assert "signals" not in page and "infantry" not in page
    # Nor does it answer a guess through a filter on what the records held.
    client = login(make_staff(Role.AUDITOR, is_staff=True))
    for guess in ("pgh_data__unit_type=signals", "pgh_diff__unit_type__1=signals"):
        response = client.get(f"/admin/pghistory/events/?model=cases.Case&{guess}")
        assert response.status_code == 400, guess


# --- teams: nobody puts themselves on one ---------------------------------------------------------


def test_a_case_manager_cannot_put_themselves_on_a_team(login, case, case_manager):
    client = login(case_manager)
    for action, field in (("add", "user"), ("case_manager", "case_manager")):
        response = client.post(url("team", case), {"action": action, field: case_manager.pk})
        assert response.status_code == 200  # the form again: they are not offered
    with pytest.raises(services.CaseError, match="Nobody puts themselves"):
        services.case_team_add(case=case, actor=case_manager, user=case_manager)
    with pytest.raises(services.CaseError, match="Nobody puts themselves"):
        services.case_assign_case_manager(case=case, actor=case_manager, case_manager=case_manager)
    case.refresh_from_db()
    assert case.case_manager is None and not CaseTeamMember.objects.exists()
    assert [entry.detail["reason"] for entry in denied(case_manager)] == ["oneself", "oneself"]


def test_team_changes_are_logged_and_alert_the_case_manager(
    login, case, case_manager, other_case_manager, outsider
):
    client = login(other_case_manager)
    client.post(url("team", case), {"action": "case_manager", "case_manager": case_manager.pk})
    client.post(url("team", case), {"action": "add", "user": outsider.pk})
    case.refresh_from_db()
    assert case.case_manager == case_manager
    assert CaseTeamMember.objects.get(case=case).user == outsider
    assert outsider.has_perm(SEE_IDENTITY, case)
    changes = AccessLog.objects.filter(action=AccessLog.Action.TEAM_CHANGED, target_id=case.pk)
    assert sorted(entry.detail["change"] for entry in changes) == ["added", "case_manager"]
    assert Notification.objects.filter(recipient=case_manager, kind="cases.team_changed").exists()
    member = CaseTeamMember.objects.get(case=case)
    client.post(url("team", case), {"action": "remove", "member": member.pk})
    assert not outsider.has_perm(SEE_IDENTITY, case)


def test_starting_verification_or_deciding_puts_nobody_on_a_team(case, outsider):
    with pytest.raises(services.CaseError):
        services.case_start_verification(case=case, actor=outsider)
    assert not outsider.has_perm(SEE_IDENTITY, case)


# --- break-the-glass ------------------------------------------------------------------------------


def test_break_the_glass_opens_for_a_while_alerts_and_is_reviewed_by_another(
    login, case, outsider, case_manager, other_case_manager, make_staff, settings
):
    settings.HAVEN_BREAK_GLASS_MINUTES = 30
    administrator = make_staff(Role.ADMINISTRATOR)
    services.case_assign_case_manager(
        case=case, actor=other_case_manager, case_manager=case_manager
    )
    client = login(outsider)
    # No reason: a clear message, nothing opened, and the attempt is in the access log.
    page = client.post(url("break_glass", case), {"reason": "danger", "why": "  "}).content
    assert b"This field is required" in page
    with pytest.raises(services.CaseError, match="Write why"):
        services.break_glass_open(case=case, actor=outsider, reason="danger", why=" ")
    assert not BreakGlass.objects.exists()
    assert denied(outsider)[0].detail["action"] == "break the glass"

    response = client.post(
        url("break_glass", case), {"reason": "danger", "why": "Family threatened tonight"}
    )
    assert response.status_code == 302
    use = BreakGlass.objects.get()
    assert use.expires_at - use.opened_at == datetime.timedelta(minutes=30)
    assert outsider.has_perm(SEE_IDENTITY, case)
    reveal = client.post(url("reveal", case, field="real_name"), HTTP_HX_REQUEST="true")
    assert NAME in reveal.content.decode()
    told = set(
        Notification.objects.filter(kind="cases.break_glass").values_list("recipient", flat=True)
    )
    assert told == {case_manager.pk, administrator.pk}
    assert AccessLog.objects.filter(actor=outsider, action=AccessLog.Action.BREAK_GLASS).exists()

    # After the window: closed again.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        assert not outsider.has_perm(SEE_IDENTITY, case)
        with pytest.raises(PermissionDenied):
            protected_field_reveal(actor=outsider, obj=case, field_name="real_name")

    # Reviewed by someone else: never by the one who opened it.
    with pytest.raises(services.CaseError, match="Someone else"):
        services.break_glass_review(use=use, actor=outsider, outcome="justified")
    assert list(selectors.glass_awaiting_review(user=case_manager)) == [use]
    assert list(selectors.glass_awaiting_review(user=administrator)) == [use]
    assert "1 break-the-glass awaiting your review" in login(case_manager).get("/").content.decode()
    services.break_glass_review(use=use, actor=case_manager, outcome="justified")
    assert not selectors.glass_awaiting_review(user=administrator).exists()
    with pytest.raises(services.CaseError, match="reviewed already"):
        services.break_glass_review(use=use, actor=administrator, outcome="not_justified", note="x")


def test_an_unjustified_break_the_glass_ends_at_once(case, outsider, make_staff):
    administrator = make_staff(Role.ADMINISTRATOR)
    use = services.break_glass_open(case=case, actor=outsider, reason="other", why="Curious")
    with pytest.raises(services.CaseError, match="not justified"):
        services.break_glass_review(use=use, actor=administrator, outcome="not_justified")
    services.break_glass_review(
        use=use, actor=administrator, outcome="not_justified", note="No reason to look"
    )
    assert not outsider.has_perm(SEE_IDENTITY, case)
    assert Notification.objects.filter(kind="cases.break_glass_unjustified").exists()
    # The note, like the why, is stored encrypted under the case's key (it may quote the why).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT review_note, why FROM cases_breakglass WHERE id = %s", [use.pk])
        stored = cursor.fetchone()
    assert all(value.startswith("hv1:") for value in stored)
    assert "No reason to look" not in " ".join(stored)


def test_a_team_member_need_not_and_cannot_break_the_glass(case, member):
    with pytest.raises(services.CaseError, match="on this case's team"):
        services.break_glass_open(case=case, actor=member, reason="danger", why="x")


# --- the reveal budget ----------------------------------------------------------------------------


def test_over_the_budget_reveals_are_refused_until_a_second_person_raises_it(
    login, make_staff, outsider, settings
):
    settings.HAVEN_REVEAL_BUDGET_PER_DAY = 2
    administrator = make_staff(Role.ADMINISTRATOR)
    cases = [add_to_team(CaseFactory(), outsider) for _ in range(3)]
    for case in cases[:2]:
        protected_field_reveal(actor=outsider, obj=case, field_name="real_name")
        # Another field of a record already revealed today costs nothing.
        protected_field_reveal(actor=outsider, obj=case, field_name="phone")
    client = login(outsider)
    response = client.post(url("reveal", cases[2], field="real_name"), follow=True)
    assert "your budget for the day" in response.content.decode()
    assert cases[2].real_name not in response.content.decode()
    (refusal,) = denied(outsider)
    assert refusal.detail == {"action": "reveal", "budget": 2}
    alert = Notification.objects.get(kind="accounts.reveal_budget")
    assert alert.recipient == administrator

    # Nobody raises their own budget; another person can, for today.
    outsider.user_permissions.add(
        Permission.objects.get(codename="raise_reveal_budget", content_type__app_label="accounts")
    )
    outsider = type(outsider).objects.get(pk=outsider.pk)
    with pytest.raises(PermissionDenied, match="Nobody raises their own"):
        budgets.reveal_budget_raise(actor=outsider, user=outsider, extra=5, reason="x")
    admin_client = login(administrator)
    page = admin_client.get(reverse("accounts:reveal_budgets")).content.decode()
    assert outsider.username in page
    admin_client.post(
        reverse("accounts:reveal_budgets"),
        {"user": outsider.pk, "extra": 1, "reason": "Backlog of checks today"},
    )
    assert RevealAllowance.objects.get().granted_by == administrator
    assert protected_field_reveal(actor=outsider, obj=cases[2], field_name="real_name")
    assert AccessLog.objects.filter(action=AccessLog.Action.BUDGET_RAISED).exists()


def test_a_raise_of_the_budget_with_bad_input_changes_nothing(login, make_staff, outsider):
    administrator = make_staff(Role.ADMINISTRATOR)
    client = login(administrator)
    for data in (
        {"user": outsider.pk, "extra": 0, "reason": "x"},
        {"user": outsider.pk, "extra": 10_000, "reason": "x"},
        {"user": outsider.pk, "extra": 5, "reason": ""},
        {"user": administrator.pk, "extra": 5, "reason": "mine"},
        {"user": "nobody", "extra": "many", "reason": "x"},
    ):
        response = client.post(reverse("accounts:reveal_budgets"), data)
        assert response.status_code == 200
    assert not RevealAllowance.objects.exists()


# --- the role × view matrix's need-to-know dimension ---------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def revealing_urls(make_staff, settings, tmp_path):
    """A case managed by someone, with a family member and an evidence file: every URL that shows
    its people, and the text each shows when it does."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    manager, namer = make_staff(Role.CASE_MANAGER), make_staff(Role.CASE_MANAGER)
    case = CaseFactory(real_name=NAME, safety_plan="Leave by the back road")
    services.case_assign_case_manager(case=case, actor=namer, case_manager=manager)
    member = services.family_member_add(
        case=case, actor=manager, name="Ma Thida Win", relation="spouse", age=30
    )
    evidence = services.evidence_add(
        case=case,
        actor=manager,
        kind="photo",
        upload=SimpleUploadedFile("photo.png", PNG, content_type="image/png"),
    )
    return case, {
        "reveal": ("post", url("reveal", case, field="real_name"), NAME),
        "family_reveal": (
            "post",
            url("family_reveal", case, member_pk=member.pk, field="name"),
            "Ma Thida Win",
        ),
        # The file itself: an attachment.
        "evidence_download": ("get", url("evidence_download", case, evidence_pk=evidence.pk), None),
        "edit": ("get", url("edit", case), NAME),
    }


STATES = ("team member", "same-role outsider", "break-the-glass", "after the window", "over budget")


@pytest.mark.parametrize("state", STATES)
def test_need_to_know_matrix(login, make_staff, revealing_urls, settings, state):
    case, urls = revealing_urls
    # A short window, so that "after the window" comes before the session times out.
    settings.HAVEN_BREAK_GLASS_MINUTES = 2
    user = make_staff(Role.CASE_MANAGER)
    if state == "team member":
        add_to_team(case, user)
    elif state in ("break-the-glass", "after the window"):
        services.break_glass_open(case=case, actor=user, reason="danger", why="Tonight")
    elif state == "over budget":
        settings.HAVEN_REVEAL_BUDGET_PER_DAY = 1
        add_to_team(case, user)
        elsewhere = add_to_team(CaseFactory(), user)
        protected_field_reveal(actor=user, obj=elsewhere, field_name="real_name")
    allowed = state in ("team member", "break-the-glass")
    later = timezone.now() + datetime.timedelta(minutes=settings.HAVEN_BREAK_GLASS_MINUTES + 1)
    client = login(user)
    wrong = []
    with time_machine.travel(later if state == "after the window" else timezone.now()):
        for name, (method, address, shown) in urls.items():
            response = getattr(client, method)(address, follow=True)
            if shown is None:
                seen = "attachment" in response.get("Content-Disposition", "")
            else:
                seen = shown.encode() in response.content
            if seen != allowed:
                wrong.append(f"{name}: {'shown' if seen else 'not shown'}")
    assert wrong == [], f"{state}: " + "; ".join(wrong)
    refusals = AccessLog.objects.filter(actor=user, action=AccessLog.Action.DENIED)
    assert refusals.exists() is not allowed
