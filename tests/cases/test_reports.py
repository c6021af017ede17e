"""The case reports page and its CSV export: right counts, a readable chart, counts and case
codes only, every export logged, and no way in without the permissions."""

from __future__ import annotations

import csv
import datetime
import io
import xml.etree.ElementTree as ElementTree

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessLog
from cases.charts import axis_ticks, monthly_chart_svg
from cases.choices import ItemCategory, ItemType, Status
from cases.models import ItemBrought
from cases.selectors import MonthRow
from cases.views.reports import current_month
from protection.exports import csv_safe
from tests import exporting
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
KNOWN_NAMES = ("Thura Zaw Aung", "Nandar Hla Phyu", "Kyaw Min Tun")
KNOWN_SERVICE_NUMBERS = ("BA-771001", "BA-771002", "PO-771003")
KNOWN_PHONES = ("09-7710-0001", "09-7710-0002", "09-7710-0003")


@pytest.fixture
def report_month() -> datetime.date:
    return current_month() - relativedelta(months=2)


@pytest.fixture
def decider(make_staff):
    return make_staff(Role.CASE_MANAGER)


def verified_case(decider, **fields):
    """A verified case as the database allows it: decided by someone other than the intake
    officer, with when and why."""
    return CaseFactory(
        status=Status.VERIFIED,
        decided_by=decider,
        decided_at=timezone.now(),
        decision_reason="All checks passed",
        **fields,
    )


@pytest.fixture
def month_of_cases(report_month, decider, make_staff):
    """Three contacts in one month, one of them verified (and defected that month), one with
    a rifle; one contact long before the range."""
    in_month = report_month.replace(day=5)
    recorder = make_staff(Role.INTAKE_OFFICER)
    cases = [
        verified_case(
            decider,
            contact_date=in_month,
            defection_date=in_month.replace(day=9),
            real_name=KNOWN_NAMES[0],
            service_number=KNOWN_SERVICE_NUMBERS[0],
            phone=KNOWN_PHONES[0],
            date_of_birth=datetime.date(1991, 2, 3),
            force="army",
            rank="captain",
            region="chin",
        ),
        CaseFactory(
            contact_date=in_month.replace(day=12),
            real_name=KNOWN_NAMES[1],
            service_number=KNOWN_SERVICE_NUMBERS[1],
            phone=KNOWN_PHONES[1],
            force="army",
            rank="private",
            region="sagaing",
        ),
        CaseFactory(
            contact_date=in_month.replace(day=20),
            real_name=KNOWN_NAMES[2],
            service_number=KNOWN_SERVICE_NUMBERS[2],
            phone=KNOWN_PHONES[2],
            force="police",
            rank="sergeant",
            region="sagaing",
        ),
    ]
    ItemBrought.objects.create(
        case=cases[1],
        category=ItemCategory.WEAPON,
        item_type=ItemType.RIFLE,
        count=1,
        recorded_by=recorder,
    )
    CaseFactory(contact_date=datetime.date(2015, 6, 1), real_name="Outside Range")
    return cases


def page(client, **params):
    return client.get(reverse("cases:reports"), params)


def export(client, **params):
    """Ask for the export (a POST); once it is started, build it as the worker would and
    download it. Otherwise the refusal."""
    response = client.post(reverse("cases:reports_export"), params)
    if response.status_code != 302:
        return response
    return exporting.download(client, exporting.build(exporting.job_of(response)))


def parse_svg(markup) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))  # noqa: S314  (our own markup, in a test)


def read_csv(response) -> list[list[str]]:
    text = exporting.content(response).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# --- the page -------------------------------------------------------------------------------


def test_counts_per_month_match_the_cases(login, make_staff, month_of_cases, report_month):
    client = login(make_staff(Role.VERIFIER))
    response = page(client)
    assert response.status_code == 200
    rows = {row.month: row for row in response.context["rows"]}
    assert (rows[report_month].contacts, rows[report_month].verified) == (3, 1)
    assert sum(row.contacts for row in rows.values()) == 3
    summary = response.context["summary"]
    assert (summary.total_contacts, summary.total_verified) == (3, 1)
    assert summary.peak.month == report_month


def test_default_range_is_the_last_24_months(login, make_staff):
    response = page(login(make_staff(Role.VERIFIER)))
    rows = response.context["rows"]
    assert len(rows) == 24
    assert rows[-1].month == current_month()
    assert rows[0].month == current_month() - relativedelta(months=23)


def test_breakdowns_by_force_rank_group_region_and_weapons(
    login, make_staff, month_of_cases, report_month
):
    client = login(make_staff(Role.VERIFIER))
    month = report_month.strftime("%Y-%m")
    response = page(client, start=month, end=month)
    tables = {table["key"]: table["rows"] for table in response.context["breakdowns"]}

    def counts(key):
        return {row.key: (row.contacts, row.verified) for row in tables[key]}

    assert counts("force") == {"army": (2, 1), "police": (1, 0)}
    assert counts("rank_group") == {"junior_officer": (1, 1), "enlisted": (1, 0), "nco": (1, 0)}
    assert [row.key for row in tables["rank_group"]] == ["enlisted", "nco", "junior_officer"]
    assert counts("region") == {"chin": (1, 1), "sagaing": (2, 0)}
    assert counts("weapons") == {"yes": (1, 0), "no": (2, 1)}


def test_page_shows_counts_and_never_identity(login, make_staff, month_of_cases):
    response = page(login(make_staff(Role.CASE_MANAGER)))
    content = response.content.decode()
    assert 'id="monthly-table"' in content
    for secret in (*KNOWN_NAMES, *KNOWN_SERVICE_NUMBERS, *KNOWN_PHONES, "hv1:", "1991-02-03"):
        assert secret not in content


def test_chart_is_well_formed_svg_with_title_description_and_no_inline_style(
    login, make_staff, month_of_cases
):
    response = page(login(make_staff(Role.VERIFIER)))
    svg = parse_svg(response.context["chart"])
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and "per month" in title.text
    assert desc is not None and "contacts 3" in desc.text
    assert set(svg.get("aria-labelledby").split()) == {title.get("id"), desc.get("id")}
    for element in svg.iter():
        assert "style" not in element.attrib
        assert element.tag != f"{SVG}style"
    # One bar for the one month with contacts, one marker per month on the verified line.
    assert len(svg.findall(f"{SVG}rect")) == 1 + 1  # plus the legend swatch
    assert len(svg.findall(f"{SVG}circle")) == 24 + 1
    assert "<svg" in response.content.decode()


@pytest.mark.parametrize("months", [0, 1, 24, 120])
def test_chart_is_well_formed_for_any_number_of_months(months):
    start = datetime.date(2015, 1, 1)
    rows = [
        MonthRow(
            month=start + relativedelta(months=index), contacts=index * 7 % 101, verified=index % 4
        )
        for index in range(months)
    ]
    svg = parse_svg(monthly_chart_svg(rows, element_id='x"><script>'))
    assert svg.find(f"{SVG}title").text
    assert svg.get("id") == "xscript"
    assert svg.find(f".//{SVG}script") is None


def test_chart_axis_has_round_ticks_above_the_largest_value():
    assert axis_ticks(0) == [0, 1]
    assert axis_ticks(3) == [0, 1, 2, 3]
    assert axis_ticks(10) == [0, 5, 10]
    assert axis_ticks(100) == [0, 25, 50, 75, 100]
    assert axis_ticks(101) == [0, 50, 100, 150]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"start": "2024-05", "end": "2024-01"},
            "The start month must not be after the end month.",
        ),
        ({"start": "2024-13", "end": "2024-12"}, "Enter a month as YYYY-MM, for example 2021-07."),
        ({"start": "<script>", "end": "2024-12"}, "Enter a month as YYYY-MM, for example 2021-07."),
        ({"start": "2010-01", "end": "2024-12"}, "Choose a range of at most 10 years"),
        (
            {"start": "2024-01", "end": "2999-12"},
            "The end month cannot be after the current month.",
        ),
        (
            {"start": "0001-01", "end": "9999-12"},
            "The end month cannot be after the current month.",
        ),
    ],
)
def test_bad_ranges_give_a_message_not_an_error(login, make_staff, params, message):
    response = page(login(make_staff(Role.VERIFIER)), **params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "rows" not in response.context
    assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_ten_years_is_allowed(login, make_staff):
    end = current_month()
    start = end - relativedelta(months=119)
    response = page(
        login(make_staff(Role.VERIFIER)), start=start.strftime("%Y-%m"), end=end.strftime("%Y-%m")
    )
    assert len(response.context["rows"]) == 120


@pytest.mark.parametrize(
    "role", [Role.HOUSING_COORDINATOR, Role.FINANCE_OFFICER, Role.FINANCE_APPROVER]
)
def test_roles_without_the_report_permission_are_refused(login, make_staff, role):
    assert page(login(make_staff(role))).status_code == 403


@pytest.mark.parametrize(
    "role",
    [Role.INTAKE_OFFICER, Role.VERIFIER, Role.CASE_MANAGER, Role.AUDITOR, Role.ADMINISTRATOR],
)
def test_roles_with_the_report_permission_see_the_page(login, make_staff, role):
    assert page(login(make_staff(role))).status_code == 200


def test_export_buttons_only_for_those_who_may_export(login, make_staff):
    assert "reports/export.csv" not in page(login(make_staff(Role.VERIFIER))).content.decode()
    assert "reports/export.csv" in page(login(make_staff(Role.AUDITOR))).content.decode()


# --- the export ------------------------------------------------------------------------------


def test_summary_export_has_the_figures_and_is_logged(
    login, make_staff, month_of_cases, report_month
):
    auditor = make_staff(Role.AUDITOR)
    month = report_month.strftime("%Y-%m")
    response = export(login(auditor), start=month, end=month, kind="summary")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["section", "key", "label", "contacts", "verified"]
    assert ["month", month, month, "3", "1"] in rows
    assert ["force", "police", "Police", "1", "0"] in rows
    assert ["weapons", "yes", "With weapons", "1", "0"] in rows
    entry = AccessLog.objects.get(action=AccessLog.Action.EXPORT, detail__report="cases.summary")
    assert entry.actor == auditor
    assert entry.detail == {
        "report": "cases.summary",
        "from": month,
        "to": month,
        "rows": len(rows) - 1,
    }


def test_per_case_export_has_codes_and_statistics_only(
    login, make_staff, month_of_cases, report_month
):
    case_manager = make_staff(Role.CASE_MANAGER)
    response = export(login(case_manager), kind="cases")
    content = exporting.content(response).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == [
        "case code",
        "contact month",
        "force",
        "rank group",
        "region",
        "status",
        "has weapons",
    ]
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {case.code for case in month_of_cases}
    verified, with_rifle, _police = month_of_cases
    month = report_month.strftime("%Y-%m")
    assert by_code[verified.code] == [
        verified.code,
        month,
        "army",
        "junior_officer",
        "chin",
        "verified",
        "no",
    ]
    assert by_code[with_rifle.code][-1] == "yes"
    for secret in (
        *KNOWN_NAMES,
        *KNOWN_SERVICE_NUMBERS,
        *KNOWN_PHONES,
        "Outside Range",
        "hv1:",
        "1991-02-03",
        "Monywa",  # township: not a field of the export either
    ):
        assert secret not in content
    entry = AccessLog.objects.get(action=AccessLog.Action.EXPORT, detail__report="cases.cases")
    assert (entry.actor, entry.detail["report"], entry.detail["rows"]) == (
        case_manager,
        "cases.cases",
        3,
    )


def test_export_neutralises_spreadsheet_formulas(login, make_staff, report_month):
    # A region is a choice in every form, but the column itself would hold anything.
    CaseFactory(contact_date=report_month, region="=1+1")
    client = login(make_staff(Role.AUDITOR))
    month = report_month.strftime("%Y-%m")
    summary = read_csv(export(client, start=month, end=month, kind="summary"))
    assert ["region", "'=1+1", "'=1+1", "1", "0"] in summary
    per_case = read_csv(export(client, start=month, end=month, kind="cases"))
    assert per_case[1][4] == "'=1+1"


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-1", "@cmd", "\tx", "\rx"])
def test_csv_cells_starting_a_formula_get_a_quote(text):
    assert csv_safe(text) == "'" + text


def test_csv_leaves_other_cells_alone():
    assert csv_safe("HV-2025-00001") == "HV-2025-00001"
    assert csv_safe(-1) == -1
    assert csv_safe("Army") == "Army"


@pytest.mark.parametrize("role", [Role.INTAKE_OFFICER, Role.VERIFIER, Role.ADMINISTRATOR])
def test_roles_without_the_export_permission_are_refused_and_nothing_is_logged(
    login, make_staff, role
):
    assert export(login(make_staff(role)), kind="cases").status_code == 403
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"start": "2024-05", "end": "2024-01", "kind": "summary"},
            "The start month must not be after the end month.",
        ),
        ({"start": "nonsense", "kind": "cases"}, "Enter a month as YYYY-MM"),
        ({"kind": "everything"}, "Choose what to export"),
    ],
)
def test_bad_export_requests_are_refused_with_a_message_and_not_logged(
    login, make_staff, params, message
):
    response = export(login(make_staff(Role.AUDITOR)), **params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


def test_export_is_not_cached(login, make_staff):
    response = export(login(make_staff(Role.AUDITOR)), kind="summary")
    assert "no-store" in response["Cache-Control"]
