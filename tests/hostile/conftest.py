"""The hostile-input suite: a small organisation with one object of every kind a URL can name,
one signed-in member of staff per role, and the helpers that post to every form of the site
and check what must never happen: a server error, a traceback, script stored and shown
unescaped, or a rejected submission that changed something anyway.

`HAVEN_HOSTILE_EXAMPLES` (test-only) raises the number of examples per form and makes the
search random instead of reproducible: `HAVEN_HOSTILE_EXAMPLES=300 pytest tests/hostile`."""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlsplit

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from hypothesis import HealthCheck, settings

from accounts.roles import Role
from cases import services as case_services
from cases.choices import CheckItem
from cases.models import VerificationCheck
from housing import services as housing_services
from housing.services import Occupant
from payments import services as payment_services
from payments.models import Payment
from tests.factories import (
    BedFactory,
    CaseFactory,
    FamilyMemberFactory,
    FundingSourceFactory,
    HouseFactory,
    PartnerFactory,
    RoomFactory,
    StipendPlanFactory,
    VerifiedCaseFactory,
    add_to_team,
    assign_verifier,
)
from tests.hostile.htmlforms import ParsedForm

# --- hypothesis ----------------------------------------------------------------------------------

_EXAMPLES = os.environ.get("HAVEN_HOSTILE_EXAMPLES", "")

settings.register_profile(
    "hostile",
    # Few examples per form but every form of the site; reproducible, so CI never fails on a
    # draw it cannot repeat. Set HAVEN_HOSTILE_EXAMPLES to search longer and at random.
    max_examples=int(_EXAMPLES) if _EXAMPLES.isdecimal() else 3,
    derandomize=not _EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=(
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ),
)
HOSTILE = settings.get_profile("hostile")
# Junk query strings on pages without a filter form: fewer examples each, as there are many.
HOSTILE_PAGES = settings(HOSTILE, max_examples=int(_EXAMPLES) if _EXAMPLES.isdecimal() else 2)

# --- what must never be seen ---------------------------------------------------------------

TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', "django.db.utils.", "psycopg.")
ESCAPED_ONLY = re.compile(
    r"<(script|img|svg|iframe)[^>]*hv-xss|on(error|load)=alert\([\"']hv-xss", re.IGNORECASE
)
# How a page says that nothing was done: a form error, or a refusal shown as an error message.
ERROR_MESSAGE = re.compile(r'class="alert alert-danger|is-invalid|errorlist')


def check_response(response, what: str) -> None:
    body = response.content.decode("utf-8", "replace") if not response.streaming else ""
    assert response.status_code < 500, f"{what}: server error {response.status_code}"
    for marker in TRACEBACK_MARKERS:
        assert marker not in body, f"{what}: the response shows a traceback ({marker!r})"
    if response.get("Content-Type", "").startswith("text/html"):
        found = ESCAPED_ONLY.search(body)
        assert found is None, f"{what}: markup shown unescaped: {found.group(0)!r}"


# --- posting as a browser would, but with anything in it ----------------------------------------


def encode(data: dict) -> str:
    """A urlencoded body or query string. Lone surrogates go out as the (invalid UTF-8) bytes
    a broken client would send."""
    pairs = []
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append(
                quote_plus(str(name).encode("utf-8", "surrogatepass"))
                + "="
                + quote_plus(str(item).encode("utf-8", "surrogatepass"))
            )
    return "&".join(pairs)


def post(client: Client, url: str, data: dict):
    return client.generic(
        "POST", url, encode(data), content_type="application/x-www-form-urlencoded"
    )


def get(client: Client, url: str, data: dict):
    separator = "&" if "?" in url else "?"
    query = encode(data)
    return client.get(f"{url}{separator}{query}" if query else url)


# --- "nothing half-saved" ------------------------------------------------------------------

# Tables a refused request may legitimately write: the access log records refusals and reveals.
UNSNAPSHOTTED = {"accounts_accesslog"}


def _snapshot_sql() -> str:
    tables = sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_label in ("accounts", "cases", "housing", "payments")
        and model._meta.managed
        and not model._meta.proxy
        and model._meta.db_table not in UNSNAPSHOTTED
    )
    # Table names come from the models, never from input.
    return " UNION ALL ".join(
        f"SELECT '{table}', count(*), md5(coalesce(string_agg(row::text, '|' ORDER BY row::text),"  # noqa: S608
        f" '')) FROM {table} AS row"
        for table in tables
    )


_SNAPSHOT_SQL: list[str] = []


def snapshot() -> dict[str, tuple[int, str]]:
    """Every row of every Haven table, as a digest per table."""
    if not _SNAPSHOT_SQL:
        _SNAPSHOT_SQL.append(_snapshot_sql())
    with connection.cursor() as cursor:
        cursor.execute(_SNAPSHOT_SQL[0])
        return {table: (count, digest) for table, count, digest in cursor.fetchall()}


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(table for table in before if before[table] != after[table])


class _RolledBack(Exception):
    pass


def in_savepoint(action) -> None:
    """Runs one example and undoes all it wrote, so examples never see each other's rows."""
    try:
        with transaction.atomic():
            action()
            raise _RolledBack
    except _RolledBack:
        pass


def submit_and_check(client: Client, form: ParsedForm, data: dict, what: str) -> bool:
    """Posts (or, for a GET form, requests) and checks every property. True when accepted."""
    if form.method == "get":
        response = get(client, form.action, data)
        check_response(response, what)
        return response.status_code == 200
    before = snapshot()
    response = post(client, form.action, data)
    check_response(response, what)
    followed = None
    if response.status_code in (301, 302, 303) and response["Location"].startswith("/"):
        followed = client.get(response["Location"])
        check_response(followed, f"{what}, then {response['Location']}")
    final = followed if followed is not None else response
    rejected = response.status_code >= 400 or (
        final.status_code == 200
        and ERROR_MESSAGE.search(final.content.decode("utf-8", "replace")) is not None
    )
    if rejected:
        changed = changed_tables(before, snapshot())
        assert changed == [], f"{what}: refused ({response.status_code}) but changed {changed}"
    return not rejected


# --- the organisation ---------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class World:
    staff: dict[str, object]
    objects: dict[str, object]
    clients: dict[str, Client] = field(default_factory=dict)

    def client(self, role: str, login) -> Client:
        if role not in self.clients:
            self.clients[role] = login(self.staff[role], Client(raise_request_exception=False))
        return self.clients[role]


# Which objects a URL's pk names, chosen so that its pages show every form it has.
PK_OF = {
    "cases:verify": ("verifying_case", "case"),
    "cases:decide": ("proposed_case",),
    "cases:reopen": ("withdrawn_case",),
    "housing:check_out": ("allocation",),
    "housing:transfer": ("allocation",),
    "housing:undo": ("allocation",),
    "housing:case_history": ("housed_case",),
    "housing:household_move": ("housed_case",),
    "housing:room_create": ("house",),
    "housing:bed_create": ("room",),
    "housing:bed_set_active": ("bed",),
    "payments:case_plans": ("plan_case", "waiting_case"),
    "payments:plan_status": ("plan",),
    "payments:batch_approve": ("draft_batch",),
    "payments:carry_forward": ("line",),
    "payments:one_off_detail": ("one_off",),
    "payments:one_off_approve": ("one_off",),
    "payments:one_off_reject": ("one_off",),
    "payments:one_off_pay": ("one_off",),
}
PK_BY_NAMESPACE = {"cases": ("case",), "housing": ("house",), "payments": ("approved_batch",)}
QUERY_OF = {
    "housing:allocate": "?case={waiting_case.pk}",
    "payments:one_off_new": "?case={plan_case.pk}",
}


def concrete_urls(name: str, sample: str, objects: dict) -> list[str]:
    """The URLs of a pattern for the organisation's objects (the walker's sample when the
    pattern names something unknown)."""
    try:
        kwargs = dict(resolve(sample.split("?")[0]).kwargs)
    except Resolver404:
        return [sample]
    query = QUERY_OF.get(name, "").format(**objects)
    if "member_pk" in kwargs:
        kwargs["member_pk"] = objects["member"].pk
    if "evidence_pk" in kwargs:
        kwargs["evidence_pk"] = objects["evidence"].pk
    if "field" in kwargs:
        kwargs["field"] = "name" if "member_pk" in kwargs else "real_name"
    names = [None]
    if "pk" in kwargs:
        names = PK_OF.get(name) or PK_BY_NAMESPACE.get(name.split(":")[0], ("case",))
    urls = []
    for object_name in names:
        if object_name is not None:
            kwargs["pk"] = objects[object_name].pk
        try:
            urls.append(reverse(name, kwargs=kwargs) + query)
        except Exception:  # a pattern without a name, or with arguments we cannot fill
            urls.append(sample)
    return urls


def target_name(action: str) -> str:
    try:
        match = resolve(urlsplit(action).path)
    except Resolver404:
        return ""
    return match.view_name


@pytest.fixture
def world(make_staff, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    staff = {role: make_staff(role, is_staff=role == Role.ADMINISTRATOR) for role in Role.ALL}
    intake, verifier = staff[Role.INTAKE_OFFICER], staff[Role.VERIFIER]
    manager, coordinator = staff[Role.CASE_MANAGER], staff[Role.HOUSING_COORDINATOR]
    officer, approver = staff[Role.FINANCE_OFFICER], staff[Role.FINANCE_APPROVER]

    case = add_to_team(CaseFactory(intake_officer=intake), manager)
    member = case_services.family_member_add(
        case=case, actor=manager, name="Ma Nandar Hla", relation="spouse", age=31
    )
    case_services.item_add(case=case, actor=manager, item_type="rifle", count=1)
    evidence = case_services.evidence_add(
        case=case,
        actor=manager,
        kind="photo",
        upload=SimpleUploadedFile("photo.png", PNG, content_type="image/png"),
    )
    case_services.referral_create(
        case=case, actor=manager, partner=PartnerFactory(name="Fictional Aid"), purpose="Help"
    )
    case_services.case_note_add(case=case, actor=manager, text="First call went well.")
    verifying_case = CaseFactory()
    for item in CheckItem.values:
        VerificationCheck.objects.create(case=verifying_case, item=item)
    case_services.case_start_verification(
        case=assign_verifier(verifying_case, verifier), actor=verifier
    )
    proposed_case = CaseFactory()
    case_services.case_start_verification(
        case=assign_verifier(proposed_case, verifier), actor=verifier
    )
    case_services.case_propose_decision(
        case=proposed_case, actor=verifier, decision="verified", reason="Checks passed"
    )
    withdrawn_case = CaseFactory()
    case_services.case_withdraw(case=withdrawn_case, actor=manager, reason="No longer reachable")
    for _twin in range(2):  # the same name and birth date: a possible duplicate to review
        CaseFactory(real_name="Ko Twin Aung", date_of_birth=datetime.date(1990, 5, 17))

    waiting_case = VerifiedCaseFactory(journey_stage="arrived")
    FamilyMemberFactory(case=waiting_case, needs_housing=True)
    housed_case = VerifiedCaseFactory()
    house = HouseFactory()
    room = RoomFactory(house=house)
    bed = BedFactory(room=room)
    BedFactory(room=room)
    BedFactory(room=room)
    allocation = housing_services.allocation_create(
        actor=coordinator, occupant=Occupant(housed_case), bed=bed, start=timezone.localdate()
    )

    plan = StipendPlanFactory(created_by=officer)
    StipendPlanFactory(currency="MMK", amount="100000.00", created_by=officer)
    period = timezone.localdate().replace(day=1)
    batches = payment_services.disbursement_run(period=period, actor=officer)
    draft_batch = next(batch for batch in batches if batch.currency == "THB")
    approved_batch = next(batch for batch in batches if batch.currency == "MMK")
    payment_services.batch_approve(batch=approved_batch, actor=approver)
    one_off = payment_services.one_off_propose(
        case=plan.case,
        actor=officer,
        kind="medical",
        amount="2500",
        currency="THB",
        funding_source=FundingSourceFactory(name="Fictional Donor 1"),
    )
    objects = {
        "case": case,
        "member": member,
        "evidence": evidence,
        "verifying_case": verifying_case,
        "proposed_case": proposed_case,
        "withdrawn_case": withdrawn_case,
        "waiting_case": waiting_case,
        "housed_case": housed_case,
        "house": house,
        "room": room,
        "bed": bed,
        "allocation": allocation,
        "plan": plan,
        "plan_case": plan.case,
        "draft_batch": draft_batch,
        "approved_batch": approved_batch,
        "line": Payment.objects.filter(batch=approved_batch).first(),
        "one_off": one_off,
    }
    return World(staff=staff, objects=objects)
