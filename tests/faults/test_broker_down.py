"""Redis down when a task is queued: the request still answers within seconds, the change the
person made is committed (or, for the monthly run, nothing changed and they are told so), the
failure is logged at ERROR for the operators, and nobody sees the broker's address or a 500."""

from __future__ import annotations

import logging
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from payments import selectors, services
from payments.models import DisbursementBatch, OneOffPayment, OneOffStatus, Payment
from payments.tasks import run_monthly_disbursement
from tests.factories import FundingSourceFactory, StipendPlanFactory, VerifiedCaseFactory
from tests.faults.broker import unreachable_broker

THIS_MONTH = timezone.localdate().replace(day=1)
PERIOD = f"{THIS_MONTH:%Y-%m}"

# A refused connection fails in well under a second; a Redis that never answers is given up
# after the socket timeouts of the settings (about 2 s). Generous bounds for a loaded machine.
SECONDS_ALLOWED = {False: 3, True: 4.5}


def not_queued(caplog, task_name: str) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == logging.ERROR
        and record.getMessage() == "task.not_queued"
        and record.task == task_name
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_that_cannot_be_queued_says_nothing_changed_and_offers_to_try_again(
    login, make_staff, caplog, monkeypatch
):
    """No surrounding transaction, as in production: the task is queued when the view runs.
    The officer tries while Redis is frozen, then while it is down, then once it is back."""
    officer = make_staff(Role.FINANCE_OFFICER)
    StipendPlanFactory.create_batch(2)
    client = login(officer)

    for answers_connections in (True, False):
        with unreachable_broker(answers_connections=answers_connections) as broker_url:
            started = time.monotonic()
            response = client.post(reverse("payments:run"), {"period": PERIOD})
            elapsed = time.monotonic() - started

        assert elapsed < SECONDS_ALLOWED[answers_connections], f"{elapsed:.1f} s"
        assert response.status_code == 503
        page = response.content.decode()
        assert f"The run for {PERIOD} could not be started" in page
        assert "Nothing was changed. Try again in a few minutes" in page
        assert broker_url.rsplit(":", 1)[1].split("/")[0] not in page
        # The same form, with the month filled in, to try again.
        assert response.context["form"]["period"].value() == PERIOD
        assert "Start the run" in page
        assert not DisbursementBatch.objects.exists()
        assert not Payment.objects.exists()
    failures = not_queued(caplog, "payments.run_monthly_disbursement")
    assert [record.arguments for record in failures] == [
        {"period": PERIOD, "actor_id": officer.pk}
    ] * 2

    # Redis is back: trying again from the same page queues the run (ids and a month only).
    queued = []
    monkeypatch.setattr(run_monthly_disbursement, "delay", lambda **kwargs: queued.append(kwargs))
    response = client.post(reverse("payments:run"), {"period": PERIOD})
    assert response.status_code == 302
    assert queued == [{"period": PERIOD, "actor_id": officer.pk}]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_payment_proposed_while_redis_is_down_is_saved_and_the_proposer_is_told(
    login, make_staff, caplog
):
    officer, approver = make_staff(Role.FINANCE_OFFICER), make_staff(Role.FINANCE_APPROVER)
    case = VerifiedCaseFactory()
    source = FundingSourceFactory()
    client = login(officer)
    url = f"{reverse('payments:one_off_new')}?case={case.pk}&kind=medical"
    data = {"kind": "medical", "amount": "2500", "currency": "THB", "funding_source": source.pk}

    with unreachable_broker() as broker_url:
        started = time.monotonic()
        response = client.post(url, data)
        elapsed = time.monotonic() - started

    assert elapsed < SECONDS_ALLOWED[False], f"{elapsed:.1f} s"
    one_off = OneOffPayment.objects.get(case=case)
    assert one_off.status == OneOffStatus.PROPOSED
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:one_off_detail", args=[one_off.pk])
    page = client.get(response["Location"]).content.decode()
    assert f"The payment for {case.code} is proposed" in page
    assert "The approvers could not be e-mailed: the task queue cannot be reached." in page
    assert broker_url.rsplit(":", 1)[1].split("/")[0] not in page
    [record] = not_queued(caplog, "payments.notify_one_off_awaiting")
    assert record.arguments == {"one_off_id": one_off.pk}

    # What the message promises: the approver finds it on the dashboard all the same.
    dashboard = login(approver).get(reverse("payments:dashboard"))
    assert [awaiting.pk for awaiting in dashboard.context["awaiting"]] == [one_off.pk]


@pytest.mark.django_db
def test_a_run_completes_when_the_approvers_email_cannot_be_queued(
    make_staff, caplog, django_capture_on_commit_callbacks
):
    officer, approver = make_staff(Role.FINANCE_OFFICER), make_staff(Role.FINANCE_APPROVER)
    plans = StipendPlanFactory.create_batch(3)

    with unreachable_broker(), django_capture_on_commit_callbacks(execute=True):
        [batch] = services.disbursement_run(period=THIS_MONTH, actor=officer)

    batch.refresh_from_db()
    assert batch.run_completed_at is not None
    assert batch.line_count == len(plans)
    [record] = not_queued(caplog, "payments.notify_batch_ready")
    assert record.arguments == {"batch_id": batch.pk}
    assert list(selectors.batches_awaiting_approval(user=approver)) == [batch]
