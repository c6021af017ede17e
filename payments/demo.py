"""Fictional demo money: funding sources, a reward policy, a stipend plan for every verified
case, a year of closed monthly batches, this month's batch awaiting approval and a reward
awaiting approval. Created through the services, so the ledger and history are real."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TextIO

from django.contrib.postgres.fields.ranges import DateRange
from django.utils import timezone

from accounts.demo import register_demo_loader
from accounts.models import User
from cases.choices import Status as CaseStatus
from cases.models import Case, ItemBrought
from payments import services
from payments.models import FundingSource, PaymentStatus, RewardPolicy

REWARDS = {
    "pistol": 300000,
    "rifle": 500000,
    "machine_gun": 1500000,
    "anti_aircraft": 5000000,
    "military_vehicle": 3000000,
    "rounds": 500,
}


def load_demo_payments(stdout: TextIO) -> None:
    if FundingSource.objects.exists():
        stdout.write("  payments already there\n")
        return
    officer = User.objects.get(username="finance")
    approver = User.objects.get(username="approver")
    stipends = FundingSource.objects.create(name="Solidarity fund (demo)", currency="THB")
    rewards = FundingSource.objects.create(name="Reward fund (demo)", currency="MMK")
    for item_type, amount in REWARDS.items():
        RewardPolicy.objects.create(
            item_type=item_type,
            amount=Decimal(amount),
            currency="MMK",
            validity=DateRange(datetime.date(2021, 6, 1), None),
        )
    this_month = timezone.localdate().replace(day=1)
    first_month = (this_month - datetime.timedelta(days=365)).replace(day=1)
    # Fictional wallets (Thai and Myanmar mobile numbers), shown only on payout day.
    wallets = ["+66812345670", "+959420123450", ""]
    for number, case in enumerate(Case.objects.filter(status=CaseStatus.VERIFIED).order_by("pk")):
        start = max(case.contact_date, first_month)
        wallet = wallets[number % len(wallets)]
        wallet = wallet[:-1] + str(number % 10) if wallet else ""
        services.plan_create(
            case=case,
            actor=officer,
            start_date=start,
            funding_source=stipends,
            payout_method="mobile_money" if wallet else "cash",
            payout_account=wallet,
        )
    period, batches = first_month, 0
    while period < this_month:
        for batch in services.disbursement_run(period=period, actor=officer):
            batch = services.batch_approve(batch=batch, actor=approver)
            lines = list(batch.lines.filter(status=PaymentStatus.PENDING).order_by("pk"))
            unclaimed, mobile, cash = (
                lines[:1],
                lines[1::3],
                [line for line in lines[1:] if line not in lines[1::3]],
            )
            if unclaimed:
                services.payments_record(payments=unclaimed, actor=officer, outcome="unclaimed")
            if mobile:
                services.payments_record(
                    payments=mobile,
                    actor=officer,
                    outcome="paid",
                    method="mobile_money",
                    reference=f"DEMO-{period:%Y%m}",
                )
            if cash:
                services.payments_record(
                    payments=cash, actor=officer, outcome="paid", method="cash", acknowledged=True
                )
            services.batch_close(batch=batch, actor=officer)
            batches += 1
        period = (period + datetime.timedelta(days=32)).replace(day=1)
    services.disbursement_run(period=this_month, actor=officer)
    armed = (
        ItemBrought.objects.filter(case__status=CaseStatus.VERIFIED, item_type="rifle")
        .select_related("case")
        .first()
    )
    if armed is not None:
        total, currency, _lines = services.reward_proposal(case=armed.case)
        services.one_off_propose(
            case=armed.case,
            actor=officer,
            kind="reward",
            amount=total,
            currency=currency,
            funding_source=rewards,
        )
    stdout.write(f"  {batches} closed monthly batches, this month's batch awaiting approval\n")


register_demo_loader("payments", load_demo_payments, order=30)
