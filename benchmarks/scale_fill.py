"""Years of an organisation's work at scale, written by set-based SQL on top of the demo.

N cases (default 100,000) with families, houses full of stays (past and current), a stipend
plan per verified case and twelve months of closed batches (one line per plan and month: about
a million payment lines, three ledger entries each), all through the history triggers, so that
pghistory's events are there too. Every statement is one `INSERT … SELECT generate_series`: the
fill takes minutes, not hours, on a small machine.

Identity fields hold a real ciphertext (one fictional name, encrypted once under a benchmark
data key), so that pages which decrypt do the work they do in production.
"""

from __future__ import annotations

import time

from dateutil.relativedelta import relativedelta

# Case codes of the fill use years no real or demo case has (the demo counts from this year
# back a few years; HV-1900 … are never issued): 99,999 codes a year.
CODES_PER_YEAR = 99_999
FIRST_CODE_YEAR = 1900
HOUSES = 200
ROOMS_PER_HOUSE = 5
BEDS_PER_ROOM = 4
STAY_DAYS = 30
MONTHS = 12

REGIONS = [
    "ayeyarwady",
    "bago",
    "chin",
    "kachin",
    "kayah",
    "kayin",
    "magway",
    "mandalay",
    "mon",
    "naypyidaw",
    "rakhine",
    "sagaing",
    "shan",
    "tanintharyi",
    "yangon",
]
RANKS = [
    "private",
    "lance_corporal",
    "corporal",
    "sergeant",
    "warrant_officer",
    "second_lieutenant",
    "lieutenant",
    "captain",
    "major",
    "lieutenant_colonel",
    "colonel",
    "unknown",
]
UNIT_TYPES = [
    "infantry",
    "artillery",
    "armour",
    "engineers",
    "signals",
    "air_force",
    "navy",
    "support",
    "police_station",
    "police_battalion",
    "special_branch",
    "other",
]
TOWNS = ["Mae Sot", "Umphang", "Chiang Mai", "Mae Hong Son", "Mae Sariang"]

# Cases: one in twenty in intake, one verifying, one rejected, the rest verified; the stage,
# risk, urgency, region, force, rank and month spread across their values; one in a thousand
# an emergency. Decided cases were decided three weeks after contact.
CASES_SQL = """
    INSERT INTO cases_case (
        code, status, version, contact_date, contact_month, channel, region, township, force,
        rank, rank_group, unit_type, defection_date, defection_month, urgency, risk_level,
        journey_stage, emergency, emergency_since,
        real_name, service_number_index, national_id_index, name_and_birth_index,
        proposed_decision, proposal_reason, decided_at, decision_reason, status_reason,
        created_at, updated_at, data_key_id, intake_officer_id, verifier_id, case_manager_id,
        decided_by_id
    )
    SELECT
        'HV-' || (%(first_year)s + (n - 1) / %(per_year)s)::text || '-'
            || lpad((((n - 1) %% %(per_year)s) + 1)::text, 5, '0'),
        -- The exact dates are ciphertext (one fictional date: the case page decrypts it), the
        -- rank too (each rank encrypted once) and the township none; the months and the rank
        -- group are in clear, as the application writes them.
        kind.status, 1, %(date)s, date_trunc('month', kind.contacted)::date,
        (ARRAY['phone', 'messaging', 'in_person', 'partner'])[1 + n %% 4],
        (%(regions)s::text[])[1 + n %% %(region_count)s], NULL,
        (ARRAY['army', 'army', 'police', 'other'])[1 + (n / 2) %% 4],
        (%(ranks)s::text[])[1 + (n / 3) %% %(rank_count)s],
        (%(rank_groups)s::text[])[1 + (n / 3) %% %(rank_count)s],
        (%(unit_types)s::text[])[1 + (n / 5) %% %(unit_type_count)s],
        %(date)s, date_trunc('month', kind.contacted - 3)::date,
        CASE WHEN n %% 13 = 0 THEN 'immediate' WHEN n %% 5 = 0 THEN 'urgent' ELSE 'routine' END,
        CASE WHEN n %% 17 = 0 THEN 'critical' WHEN n %% 7 = 0 THEN 'high'
             WHEN n %% 3 = 0 THEN 'low' ELSE 'medium' END,
        (ARRAY['arrived', 'arrived', 'arrived', 'relocated', 'resettled', 'contacted',
               'in_transit', 'lost_contact'])[1 + (n / 7) %% 8],
        n %% 1000 = 0, CASE WHEN n %% 1000 = 0 THEN now() END,
        %(name)s, '', '', '', '', NULL,
        CASE WHEN kind.status IN ('verified', 'rejected')
             THEN kind.contacted + interval '21 days 10 hours' END,
        CASE WHEN kind.status IN ('verified', 'rejected') THEN %(name)s END,
        NULL, now(), now(), %(data_key)s, %(intake)s, %(verifier)s,
        CASE WHEN n %% 2 = 0 THEN %(case_manager)s ELSE %(case_manager2)s END,
        CASE WHEN kind.status IN ('verified', 'rejected') THEN %(case_manager)s END
    FROM generate_series(1, %(cases)s) AS n
    CROSS JOIN LATERAL (
        SELECT CASE n %% 20 WHEN 0 THEN 'intake' WHEN 1 THEN 'verifying'
                            WHEN 2 THEN 'rejected' ELSE 'verified' END AS status,
               %(today)s::date - 30 - (n * 7919) %% 1095 AS contacted
    ) AS kind
"""

# Two of three cases have family: a spouse, and for one in three a child too; one member in
# four needs a bed.
FAMILY_SQL = """
    INSERT INTO cases_familymember
        (name, relation, age, whereabouts, needs_housing, created_at, case_id, data_key_id)
    SELECT %(name)s, member.relation, member.age, NULL, (person.n + member.number) %% 4 = 0,
           now(), person.id, %(data_key)s
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM cases_case
          WHERE code LIKE %(code_prefix)s) AS person
    CROSS JOIN LATERAL (
        VALUES (1, 'spouse', 20 + person.n %% 40), (2, 'child', person.n %% 17)
    ) AS member(number, relation, age)
    WHERE person.n %% 3 <> 0 AND (member.number = 1 OR person.n %% 3 = 2)
"""

HOUSES_SQL = """
    INSERT INTO housing_house (code_name, town, country, address, contact_person, notes, status,
                               status_reason, created_at, data_key_id)
    SELECT 'Bench ' || lpad(n::text, 4, '0'), (%(towns)s::text[])[1 + n %% %(town_count)s], 'TH',
           %(name)s, NULL, NULL, 'active', '', now(), %(data_key)s
    FROM generate_series(1, %(houses)s) AS n
"""

ROOMS_SQL = """
    INSERT INTO housing_room (name, house_id)
    SELECT 'Room ' || number, house.id
    FROM housing_house AS house CROSS JOIN generate_series(1, %(rooms)s) AS number
    WHERE house.code_name LIKE 'Bench %%'
"""

BEDS_SQL = """
    INSERT INTO housing_bed (label, active, room_id)
    SELECT 'Bed ' || number, true, room.id
    FROM housing_room AS room
    JOIN housing_house AS house ON house.id = room.house_id AND house.code_name LIKE 'Bench %%'
    CROSS JOIN generate_series(1, %(beds)s) AS number
"""

# Every verified case that arrived, moved on or resettled stayed once, in turn, in the bench
# beds: bed k %% beds, slot k / beds, each slot a month further back. Slot 0 is the stay running
# now, except in one bed in ten (free today: checked out yesterday).
STAYS_SQL = """
    WITH bed AS (
        SELECT bed.id, (row_number() OVER (ORDER BY bed.id) - 1) AS number
        FROM housing_bed AS bed JOIN housing_room AS room ON room.id = bed.room_id
        JOIN housing_house AS house ON house.id = room.house_id AND house.code_name LIKE 'Bench %%'
    ), person AS (
        SELECT id, (row_number() OVER (ORDER BY id) - 1) AS number FROM cases_case
        WHERE code LIKE %(code_prefix)s AND status = 'verified'
          AND journey_stage IN ('arrived', 'relocated', 'resettled')
    ), stay AS (
        SELECT person.id AS case_id, bed.id AS bed_id, person.number / %(bed_count)s AS slot,
               bed.number AS bed_number,
               %(today)s::timestamptz - interval '10 days'
                   - (person.number / %(bed_count)s) * make_interval(days => %(stay_days)s) AS start
        FROM person JOIN bed ON bed.number = person.number %% %(bed_count)s
    )
    INSERT INTO housing_allocation (stay, checked_out_at, checked_out_by_id, move_reason,
                                    created_at, case_id, checked_in_by_id, bed_id, cancel_reason)
    SELECT tstzrange(start,
                     CASE WHEN slot > 0
                          THEN start + make_interval(days => %(stay_days)s) - interval '1 day'
                          WHEN bed_number %% 10 = 0
                          THEN %(today)s::timestamptz - interval '1 day' END),
           CASE WHEN slot > 0 OR bed_number %% 10 = 0 THEN start + interval '9 days' END,
           CASE WHEN slot > 0 OR bed_number %% 10 = 0 THEN %(housing)s END,
           NULL, start, case_id, %(housing)s, bed_id, NULL
    FROM stay
"""

FUNDING_SQL = """
    INSERT INTO payments_fundingsource (name, currency, budget_per_period, active)
    VALUES ('Benchmark donor (baht)', 'THB', NULL, true),
           ('Benchmark donor (kyat)', 'MMK', NULL, true)
    RETURNING id, currency
"""

# A plan per verified case from before the twelve months; one in fifty pays kyat.
PLANS_SQL = """
    INSERT INTO payments_stipendplan (amount, currency, start_date, end_date, status, created_at,
                                      updated_at, case_id, created_by_id, funding_source_id,
                                      payout_method)
    SELECT CASE WHEN kyat THEN 150000 WHEN n %% 25 = 4 THEN 1500 ELSE 1000 END,
           CASE WHEN kyat THEN 'MMK' ELSE 'THB' END,
           %(first_month)s::date - 15, NULL, 'active', now(), now(), person.id, %(finance)s,
           CASE WHEN kyat THEN %(kyat_source)s ELSE %(baht_source)s END, ''
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM cases_case
          WHERE code LIKE %(code_prefix)s AND status = 'verified') AS person
    CROSS JOIN LATERAL (SELECT n %% 50 = 7 AS kyat) AS kind
"""

# Twelve closed months per currency, before this one (where the demo already closed a month's
# batch, the fill's lines join it).
BATCHES_SQL = """
    INSERT INTO payments_disbursementbatch (period, currency, status, prepared_at,
        run_completed_at, total, line_count, approved_at, rejection_reason, closed_at,
        approved_by_id, prepared_by_id, payout_officer_id, payout_started_at)
    SELECT month, currency, 'closed', month + interval '1 day', month + interval '1 day',
           0, 0, month + interval '2 days', '', month + interval '20 days',
           %(approver)s, %(finance)s, %(finance)s, month + interval '3 days'
    FROM generate_series(%(first_month)s::date, %(last_month)s::date, interval '1 month') AS month
    CROSS JOIN (VALUES ('THB'), ('MMK')) AS currency(currency)
    WHERE NOT EXISTS (
        SELECT 1 FROM payments_disbursementbatch AS other
        WHERE other.period = month AND other.currency = currency.currency
          AND other.status <> 'rejected'
    )
"""

CLOSED_BATCHES_SQL = """
    SELECT id FROM payments_disbursementbatch
    WHERE status = 'closed' AND period BETWEEN %(first_month)s AND %(last_month)s
"""

# Each plan's line in each closed batch of its currency: paid in cash against acknowledgement,
# one in forty unclaimed.
PAYMENTS_SQL = """
    INSERT INTO payments_payment (period, amount, currency, status, method, reference,
        acknowledged, recorded_at, carry_forward, batch_id, case_id, funding_source_id,
        recorded_by_id, plan_id)
    SELECT batch.period, plan.amount, plan.currency,
           CASE WHEN (plan.id + extract(month FROM batch.period)::int) %% 40 = 0
                THEN 'unclaimed' ELSE 'paid' END,
           'cash', NULL, true, batch.period + interval '10 days', false, batch.id, plan.case_id,
           plan.funding_source_id, %(finance)s, plan.id
    FROM payments_disbursementbatch AS batch
    JOIN payments_stipendplan AS plan ON plan.currency = batch.currency
         AND plan.funding_source_id IN (%(baht_source)s, %(kyat_source)s)
    WHERE batch.id = ANY(%(batches)s)
"""

BATCH_TOTALS_SQL = """
    UPDATE payments_disbursementbatch AS batch
    SET total = lines.total, line_count = lines.count
    FROM (SELECT batch_id, sum(amount) AS total, count(*) AS count FROM payments_payment
          WHERE batch_id = ANY(%(batches)s) GROUP BY batch_id) AS lines
    WHERE lines.batch_id = batch.id
"""

# What approving and recording wrote: committed at approval, then committed back out and
# disbursed (or released) at recording.
LEDGER_SQL = """
    INSERT INTO payments_ledgerentry (at, account, amount, currency, memo, actor_id, batch_id,
                                      funding_source_id, payment_id)
    SELECT entry.at, entry.account, entry.amount, line.currency, entry.memo, entry.actor,
           line.batch_id, line.funding_source_id, line.id
    FROM payments_payment AS line
    CROSS JOIN LATERAL (VALUES
        (line.period + interval '2 days', 'committed', line.amount, 'batch approved',
         %(approver)s),
        (line.recorded_at, 'committed', -line.amount, 'line ' || line.status, %(finance)s),
        (line.recorded_at, CASE line.status WHEN 'paid' THEN 'disbursed' ELSE 'released' END,
         line.amount, 'line ' || line.status, %(finance)s)
    ) AS entry(at, account, amount, memo, actor)
    WHERE line.batch_id = ANY(%(batches)s)
      AND line.funding_source_id IN (%(baht_source)s, %(kyat_source)s)
"""

# See benchmarks/disbursement.py: deferred foreign-key checks make big inserts quadratic.
CHECK_AT_EACH_STATEMENT_SQL = "SET CONSTRAINTS ALL IMMEDIATE"


def fill(*, cases: int, progress=print) -> dict[str, float]:
    """Write the scale data on top of the demo organisation; returns seconds per step."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from audit.services import audit_context
    from cases.models import rank_group_of
    from protection.keys import create_data_key, encrypt_text

    if cases > CODES_PER_YEAR * 99:
        raise ValueError("too many cases for the bench's case codes")
    staff = {user.username: user.pk for user in User.objects.all()}
    data_key = create_data_key(purpose="cases.case")
    today = timezone.localdate()
    this_month = today.replace(day=1)
    parameters = {
        "cases": cases,
        "today": today,
        "first_year": FIRST_CODE_YEAR,
        "per_year": CODES_PER_YEAR,
        "code_prefix": "HV-19%",
        "regions": REGIONS,
        "region_count": len(REGIONS),
        # Each rank encrypted once, beside its group in clear.
        "ranks": [encrypt_text(rank, data_key_id=data_key.pk) for rank in RANKS],
        "rank_groups": [rank_group_of(rank) for rank in RANKS],
        "rank_count": len(RANKS),
        "unit_types": UNIT_TYPES,
        "unit_type_count": len(UNIT_TYPES),
        "towns": TOWNS,
        "town_count": len(TOWNS),
        "name": encrypt_text("Fictional Benchmark Person", data_key_id=data_key.pk),
        "date": encrypt_text("2025-06-01", data_key_id=data_key.pk),
        "data_key": data_key.pk,
        "intake": staff["intake"],
        "verifier": staff["verifier"],
        "case_manager": staff["casemanager"],
        "case_manager2": staff["casemanager2"],
        "housing": staff["housing"],
        "finance": staff["finance"],
        "approver": staff["approver"],
        "houses": HOUSES,
        "rooms": ROOMS_PER_HOUSE,
        "beds": BEDS_PER_ROOM,
        "bed_count": HOUSES * ROOMS_PER_HOUSE * BEDS_PER_ROOM,
        "stay_days": STAY_DAYS,
        "first_month": this_month - relativedelta(months=MONTHS),
        "last_month": this_month - relativedelta(months=1),
    }
    seconds: dict[str, float] = {}

    def step(title: str, statement: str, **extra) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement, {**parameters, **extra})
            rows = cursor.rowcount
        seconds[title] = time.perf_counter() - started
        progress(f"  {title}: {rows:,} rows in {seconds[title]:.1f} s")

    with (
        audit_context(actor=None, action="benchmark.fill"),
        transaction.atomic(),
    ):
        with connection.cursor() as cursor:
            cursor.execute(CHECK_AT_EACH_STATEMENT_SQL)
        step("cases", CASES_SQL)
        step("family members", FAMILY_SQL)
        step("houses", HOUSES_SQL)
        step("rooms", ROOMS_SQL)
        step("beds", BEDS_SQL)
        step("stays", STAYS_SQL)
        with connection.cursor() as cursor:
            cursor.execute(FUNDING_SQL)
            sources = {currency: pk for pk, currency in cursor.fetchall()}
        parameters["baht_source"], parameters["kyat_source"] = sources["THB"], sources["MMK"]
        step("stipend plans", PLANS_SQL)
        step("closed batches", BATCHES_SQL)
        with connection.cursor() as cursor:
            cursor.execute(CLOSED_BATCHES_SQL, parameters)
            batches = [pk for (pk,) in cursor.fetchall()]
        step("payment lines", PAYMENTS_SQL, batches=batches)
        step("batch totals", BATCH_TOTALS_SQL, batches=batches)
        step("ledger entries", LEDGER_SQL, batches=batches)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    seconds["vacuum analyze"] = time.perf_counter() - started
    progress(f"  VACUUM ANALYZE in {seconds['vacuum analyze']:.1f} s")
    return seconds
