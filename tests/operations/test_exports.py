"""Exports built in the background, through the payroll sheet of a batch: two clicks start one
job, the roles that may not export are refused, the file is encrypted at rest under a key of
its own and downloaded only by the person who asked (who must still be allowed), an alert says
it is ready, a failure says why and offers "build again", a stuck job is shown as failed, and
expired or erased files are gone with their keys."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessLog
from notifications.models import Notification
from operations import exports
from operations.models import ExportJob
from payments import services
from payments.models import Payment
from protection.keys import data_key_cache
from protection.models import DataKey
from tests.exporting import build, content, download, start
from tests.factories import StipendPlanFactory, VerifiedCaseFactory, add_to_team
from tests.racing import race

pytestmark = pytest.mark.django_db

THIS_MONTH = timezone.localdate().replace(day=1)
NAME = "Aung Min Thu"
Status = ExportJob.Status


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return tmp_path / "private" / "exports"


@pytest.fixture
def officer(make_staff):
    return make_staff(Role.FINANCE_OFFICER)


@pytest.fixture
def batch(officer):
    StipendPlanFactory(case=VerifiedCaseFactory(real_name=NAME))
    StipendPlanFactory()
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    return batch


def pdf_url(batch) -> str:
    return reverse("payments:batch_pdf", args=[batch.pk])


def codes_of(batch) -> list[str]:
    return sorted(Payment.objects.filter(batch=batch).values_list("case__code", flat=True))


def test_two_clicks_start_one_job_and_queue_it_once(
    login, officer, batch, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(exports, "queue_task", lambda name, **kw: queued.append(kw) or True)
    client = login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        first = start(client, pdf_url(batch))
    with django_capture_on_commit_callbacks(execute=True):
        second = start(client, pdf_url(batch))
    assert first == second
    assert ExportJob.objects.count() == 1
    # The task is given the job's id, nothing about a person.
    assert queued == [{"job_id": str(first.pk)}]
    # Once it is built, the next click builds a new file (the batch may have changed).
    build(first)
    assert start(client, pdf_url(batch)) != first


def test_one_person_cannot_fill_the_queue(login, officer, batch, monkeypatch):
    monkeypatch.setattr(exports, "MAX_ACTIVE_PER_PERSON", 2)
    client = login(officer)
    for kind in ("batch_csv", "batch_xlsx"):
        start(client, reverse(f"payments:{kind}", args=[batch.pk]))
    response = client.post(pdf_url(batch), follow=True)
    assert "You have 2 exports on their way already" in response.text
    assert ExportJob.objects.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_clicks_at_the_same_moment_start_one_job(make_staff, monkeypatch):
    monkeypatch.setattr(exports, "queue_task", lambda name, **kw: True)
    officer = make_staff(Role.FINANCE_OFFICER)
    StipendPlanFactory()
    (batch,) = services.disbursement_run(period=THIS_MONTH, actor=officer)
    results, errors = race(
        [
            lambda: exports.export_start(
                kind="payments.batch_pdf", actor=officer, arguments={"batch": batch.pk}
            )
            for _ in range(4)
        ]
    )
    assert errors == []
    assert len({job.pk for job in results}) == 1
    assert ExportJob.objects.count() == 1


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.HOUSING_COORDINATOR, Role.INTAKE_OFFICER])
def test_roles_that_may_not_export_are_refused_and_nothing_is_started(
    login, make_staff, role, batch
):
    response = login(make_staff(role)).post(pdf_url(batch))
    assert response.status_code == 403
    assert not ExportJob.objects.exists()


def test_the_service_refuses_a_role_that_may_not_export(make_staff, batch):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        exports.export_start(
            kind="payments.batch_pdf",
            actor=make_staff(Role.CASE_MANAGER),
            arguments={"batch": batch.pk},
        )
    assert not ExportJob.objects.exists()


def test_arguments_other_than_ids_and_flags_are_refused(officer, batch):
    for arguments in ({"batch": str(batch.pk)}, {"batch": batch.pk, "name": NAME}, {}):
        with pytest.raises(exports.ExportError):
            exports.export_start(kind="payments.batch_pdf", actor=officer, arguments=arguments)
    assert not ExportJob.objects.exists()


def test_the_file_is_encrypted_at_rest_downloaded_by_its_requester_and_logged(
    login, officer, batch, private_files, django_capture_on_commit_callbacks
):
    client = login(officer)
    job = start(client, pdf_url(batch))
    page = client.get(reverse("operations:export_detail", args=[job.pk]))
    assert "Waiting for a worker" in page.text and 'hx-trigger="every 2s"' in page.text
    assert " style=" not in page.text  # the CSP refuses inline styles
    # While it is built, htmx polls the fragment, which shows how far it has got.
    ExportJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, progress_done=1, progress_total=2
    )
    fragment = client.get(
        reverse("operations:export_detail", args=[job.pk]), HTTP_HX_REQUEST="true"
    ).text
    assert fragment.lstrip().startswith('<div id="export-progress"')
    assert 'value="50"' in fragment and "1 of 2 lines" in fragment and "<html" not in fragment
    ExportJob.objects.filter(pk=job.pk).update(status=Status.QUEUED, progress_done=0)
    with django_capture_on_commit_callbacks(execute=True):
        job = build(job)
    assert job.status == Status.READY and job.percent == 100
    assert (job.progress_done, job.progress_total) == (2, 2)
    assert job.expires_at - job.finished_at == datetime.timedelta(hours=24)
    assert job.data_key.purpose == "export" and job.data_key.destroyed_at is None

    (stored,) = private_files.iterdir()
    raw = stored.read_bytes()
    assert not raw.startswith(b"%PDF") and b"%PDF" not in raw
    assert not any(code.encode() in raw for code in codes_of(batch))

    page = client.get(reverse("operations:export_detail", args=[job.pk]))
    assert "every 2s" not in page.text and "export-download" in page.text
    response = download(client, job)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="batch-{batch.period:%Y-%m}-THB.pdf"'
    )
    assert "no-store" in response["Cache-Control"]
    assert content(response).startswith(b"%PDF")
    # Logged as before (the export, by the builder) and each download.
    logged = AccessLog.objects.filter(action=AccessLog.Action.EXPORT, actor=officer)
    assert logged.filter(detail__export="payments.batch_pdf", detail__lines=2).count() == 1
    assert logged.filter(detail__download="payments.batch_pdf").count() == 1
    # The requester hears that it is ready, in the app, with a link to its page.
    (alert,) = Notification.objects.filter(recipient=officer)
    assert alert.kind == "operations.export_ready"
    assert alert.link == reverse("operations:export_detail", args=[job.pk])


def test_nobody_else_sees_or_downloads_the_file(login, officer, make_staff, batch):
    job = build(start(login(officer), pdf_url(batch)))
    colleague = login(make_staff(Role.FINANCE_OFFICER))
    for name in ("export_detail", "export_download"):
        assert colleague.get(reverse(f"operations:{name}", args=[job.pk])).status_code == 404
    assert colleague.post(reverse("operations:export_again", args=[job.pk])).status_code == 404
    assert ExportJob.objects.count() == 1


def test_the_download_checks_the_permission_again(login, officer, batch):
    client = login(officer)
    job = build(start(client, pdf_url(batch)))
    officer.groups.remove(Group.objects.get(name=Role.FINANCE_OFFICER))
    officer.groups.add(Group.objects.get(name=Role.CASE_MANAGER))
    response = download(client, job)
    assert response.status_code == 302
    assert not response.has_header("Content-Disposition")
    denied = AccessLog.objects.get(action=AccessLog.Action.DENIED, target_id=str(job.pk))
    assert denied.detail["why"] == "no longer allowed"
    assert not AccessLog.objects.filter(detail__has_key="download").exists()


def test_a_build_is_refused_to_someone_who_lost_the_role_meanwhile(login, officer, batch):
    client = login(officer)
    job = start(client, pdf_url(batch))
    officer.groups.clear()
    job = build(job)
    assert job.status == Status.FAILED
    assert job.error == "You do not have permission to do this."
    assert job.data_key.destroyed_at is not None


def test_a_failed_job_says_why_and_is_built_again(
    login, officer, batch, monkeypatch, django_capture_on_commit_callbacks
):
    client = login(officer)
    job = start(client, pdf_url(batch))

    def broken(*args, **kwargs):
        raise RuntimeError(f"cannot draw {NAME}")

    monkeypatch.setattr("payments.exports.payroll.write_payroll_pdf", broken)
    with django_capture_on_commit_callbacks(execute=True):
        job = build(job)
    assert job.status == Status.FAILED
    assert "Something went wrong" in job.error and NAME not in job.error
    page = client.get(reverse("operations:export_detail", args=[job.pk])).text
    assert "Build again" in page and "Something went wrong" in page
    assert (Notification.objects.get(recipient=officer).kind) == "operations.export_failed"

    monkeypatch.undo()
    response = client.post(reverse("operations:export_again", args=[job.pk]))
    again = ExportJob.objects.exclude(pk=job.pk).get()
    assert response["Location"] == reverse("operations:export_detail", args=[again.pk])
    assert build(again).status == Status.READY


def test_a_job_stuck_longer_than_the_setting_is_shown_failed_never_in_progress(
    login, officer, batch, settings
):
    settings.HAVEN_EXPORT_STUCK_MINUTES = 15
    client = login(officer)
    job = start(client, pdf_url(batch))
    ExportJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, heartbeat_at=timezone.now() - datetime.timedelta(minutes=16)
    )
    page = client.get(reverse("operations:export_detail", args=[job.pk])).text
    assert "took too long" in page and "Build again" in page and "every 2s" not in page
    # A click on the export now starts a new job rather than returning the stuck one.
    again = start(client, pdf_url(batch))
    assert again != job
    job.refresh_from_db()
    assert job.status == Status.FAILED
    # And a late worker does not revive it.
    assert build(job).status == Status.FAILED


def test_the_sweep_fails_stuck_jobs(officer, batch, settings):
    job = exports.export_start(
        kind="payments.batch_pdf", actor=officer, arguments={"batch": batch.pk}
    )
    ExportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=60)
    )
    assert exports.exports_sweep() == {"expired": 0, "stuck": 1}
    job.refresh_from_db()
    assert job.status == Status.FAILED and "took too long" in job.error


def test_an_expired_file_is_gone_with_its_key(
    login, officer, batch, private_files, django_capture_on_commit_callbacks
):
    client = login(officer)
    job = build(start(client, pdf_url(batch)))
    key = job.data_key
    assert list(private_files.iterdir())
    # Past its expiry it is refused at once, sweep or no sweep.
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        response = download(client, job)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.EXPIRED
    assert not list(private_files.iterdir())
    key.refresh_from_db()
    assert key.destroyed_at is not None and key.wrapped_key is None
    assert "expired" in client.get(reverse("operations:export_detail", args=[job.pk])).text


def test_the_sweep_destroys_expired_files(
    login, officer, batch, private_files, django_capture_on_commit_callbacks
):
    job = build(start(login(officer), pdf_url(batch)))
    assert exports.exports_sweep(now=job.expires_at - datetime.timedelta(minutes=1)) == {
        "expired": 0,
        "stuck": 0,
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert exports.exports_sweep(now=job.expires_at) == {"expired": 1, "stuck": 0}
    job.refresh_from_db()
    assert job.status == Status.EXPIRED
    assert not list(private_files.iterdir())
    assert DataKey.objects.get(pk=job.data_key_id).wrapped_key is None


def test_an_erasure_destroys_the_exports_that_name_the_person(
    login, make_staff, batch, private_files
):
    from cases.services.erasure import erasure_approve, erasure_request

    reader = make_staff(Role.FINANCE_OFFICER)
    reader.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="reveal_identity")
    )
    cases = [payment.case for payment in Payment.objects.filter(batch=batch)]
    (named_case,) = [case for case in cases if case.real_name == NAME]
    add_to_team(named_case, reader)
    client = login(reader)
    with_names = build(start(client, pdf_url(batch)))
    assert with_names.named_case_ids == [named_case.pk]
    assert NAME.encode() not in b"".join(path.read_bytes() for path in private_files.iterdir())
    codes_only = build(start(login(make_staff(Role.AUDITOR)), pdf_url(batch)))
    assert codes_only.named_case_ids == []

    pending = erasure_request(
        case=named_case,
        actor=make_staff(Role.CASE_MANAGER),
        reason="person_request",
        confirmation=named_case.code,
    )
    for approver in (
        make_staff(Role.CASE_MANAGER),
        make_staff(Role.ADMINISTRATOR, is_staff=True),
    ):
        erasure_approve(erasure=pending, actor=approver, confirmation=named_case.code)

    with_names.refresh_from_db()
    codes_only.refresh_from_db()
    assert with_names.status == Status.ERASED
    assert DataKey.objects.get(pk=with_names.data_key_id).wrapped_key is None
    assert codes_only.status == Status.READY
    data_key_cache.clear()
    assert download(client, with_names).status_code == 302


def test_a_reader_taken_off_a_team_no_longer_downloads_the_names_it_printed(
    login, make_staff, batch
):
    from cases.models import CaseTeamMember

    reader = make_staff(Role.FINANCE_OFFICER)
    reader.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="reveal_identity")
    )
    (named_case,) = [
        payment.case
        for payment in Payment.objects.filter(batch=batch)
        if payment.case.real_name == NAME
    ]
    add_to_team(named_case, reader)
    client = login(reader)
    job = build(start(client, pdf_url(batch)))
    assert job.named_case_ids == [named_case.pk]
    assert download(client, job).status_code == 200

    CaseTeamMember.objects.filter(case=named_case, user=reader).delete()
    response = download(client, job)
    assert response.status_code == 302
    assert not response.has_header("Content-Disposition")
    denied = AccessLog.objects.filter(action=AccessLog.Action.DENIED, target_id=str(job.pk))
    assert denied.get().detail["why"] == "no longer allowed"
    # Built again, the sheet holds codes only, and downloads.
    again = build(start(client, pdf_url(batch)))
    assert again.named_case_ids == []
    assert download(client, again).status_code == 200


def test_the_download_says_the_size_of_the_file_it_sends(login, officer, batch):
    """Content-Length is the decrypted file's: a browser told the (larger) encrypted size waits
    for the rest of the download for ever."""
    client = login(officer)
    job = build(start(client, pdf_url(batch)))
    response = download(client, job)
    sent = content(response)
    assert sent.startswith(b"%PDF")
    assert int(response["Content-Length"]) == len(sent) == job.size
