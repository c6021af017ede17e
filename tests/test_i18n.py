"""The Burmese interface: a complete catalogue, pages without English, the language that follows
the staff member from login to login, Burmese notifications and dates."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation.template import templatize

from accounts.models import User
from accounts.roles import Role
from payments import services as payment_services
from payments.notifications import notify_batch_ready
from tests.conftest import current_totp
from tests.factories import (
    DEFAULT_PASSWORD,
    BedFactory,
    HouseFactory,
    RoomFactory,
    StipendPlanFactory,
    TOTPDeviceFactory,
    VerifiedCaseFactory,
)

BASE_DIR = Path(settings.BASE_DIR)
CATALOGUE = BASE_DIR / "locale" / "my" / "LC_MESSAGES" / "django.po"
COOKIE = settings.LANGUAGE_COOKIE_NAME

# Words of the English interface that must not survive on a Burmese page.
ENGLISH_UI_WORDS = (
    "Cases",
    "Log out",
    "Log in",
    "Occupancy board",
    "Waiting list",
    "Home",
    "Dashboard",
    "Houses",
    "Batches",
    "Search",
    "Status",
    "Summary",
    "Language",
    "Change",
    "Password",
    "Username",
    "Previous",
    "Next",
    "Verified",
    "Stipend",
    "Payments",
)

# What makemessages scans (manage.py makemessages --ignore=.venv --ignore=tests ...).
NOT_SCANNED = {".venv", "tests", "benchmarks", "var", "locale", "static", "node_modules"}
XGETTEXT_KEYWORDS = [
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
]


# --- the catalogue -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    return polib.pofile(str(CATALOGUE))


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogue(tmp_path_factory):
    """The pages below read the catalogue as it is in the tree, compiled afresh (`make` compiles
    it into locale/ the same way), so a stale or missing .mo cannot hide a mistake."""
    assert shutil.which("msgfmt"), "GNU gettext is missing: apt-get install gettext"
    locale = tmp_path_factory.mktemp("locale")
    target = locale / "my" / "LC_MESSAGES"
    target.mkdir(parents=True)
    subprocess.run(
        ["msgfmt", "--check", "-o", str(target / "django.mo"), str(CATALOGUE)],
        check=True,
        capture_output=True,
    )
    with override_settings(LOCALE_PATHS=[locale]):
        yield


def test_catalogue_compiles_without_warnings():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_catalogue_is_burmese_with_one_plural_form(catalogue):
    assert catalogue.metadata["Language"] == "my"
    assert catalogue.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
    assert catalogue.metadata["Content-Type"] == "text/plain; charset=UTF-8"


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    obsolete = [entry.msgid for entry in catalogue.obsolete_entries()]
    assert (untranslated, fuzzy, obsolete) == ([], [], [])
    for entry in catalogue:
        if entry.msgid_plural:
            assert list(entry.msgstr_plural) == [0], entry.msgid
            assert entry.msgstr_plural[0].strip(), entry.msgid


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sdifr]|%[sdif]|%%", text))


def test_translations_keep_every_placeholder(catalogue):
    for entry in catalogue:
        translated = entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr
        source = entry.msgid_plural or entry.msgid
        assert _placeholders(translated) == _placeholders(source), entry.msgid


def test_translations_are_written_in_burmese_script(catalogue):
    """Unicode Myanmar script, and never Zawgyi (which puts vowel signs before consonants)."""
    latin_only = {"Haven"}  # the organisation's name stays as it is
    for entry in catalogue:
        translated = entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr
        words = re.sub(r"%\(\w+\)[sdifr]|%[sdif]|&\w+;", "", entry.msgid)
        if translated in latin_only or not re.search("[A-Za-z]{2}", words):
            continue
        assert re.search("[\u1000-\u109f]", translated), entry.msgid
        assert not re.search("(^|[^\u1000-\u109f])\u1031", translated), entry.msgid


def _strings_in_the_code(tmp_path: Path) -> set[tuple[str | None, str]]:
    """(context, msgid) of every translatable string makemessages would find, via xgettext."""
    sources = []
    for path in sorted(BASE_DIR.rglob("*")):
        relative = path.relative_to(BASE_DIR)
        if relative.parts[0] in NOT_SCANNED or relative.parts[0].startswith("."):
            continue
        if path.suffix == ".py":
            sources.append(path)
        elif path.suffix in (".html", ".txt"):
            copy = tmp_path / (str(relative).replace("/", "__") + ".py")
            copy.write_text(templatize(path.read_text(), origin=str(path)))
            sources.append(copy)
    pot = tmp_path / "django.pot"
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--from-code=UTF-8",
            *XGETTEXT_KEYWORDS,
            f"--output={pot}",
            *map(str, sources),
        ],
        check=True,
        capture_output=True,
    )
    return {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(pot)) if entry.msgid}


def test_catalogue_has_every_string_of_the_code(catalogue, tmp_path):
    """A new text needs `makemessages -l my` and a translation, or it shows in English."""
    assert shutil.which("xgettext"), "GNU gettext is missing: apt-get install gettext"
    in_catalogue = {(entry.msgctxt, entry.msgid) for entry in catalogue}
    missing = _strings_in_the_code(tmp_path) - in_catalogue
    assert not missing, (
        "not in locale/my/LC_MESSAGES/django.po (run python manage.py makemessages -l my "
        f"--ignore=.venv --ignore=tests --ignore=benchmarks and translate): {sorted(missing)}"
    )


# --- pages -------------------------------------------------------------------------------------


class _VisibleText(HTMLParser):
    """The text a reader sees or hears: page text, titles and labels, not markup or scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(response) -> str:
    assert response.status_code == 200, response.status_code
    parser = _VisibleText()
    parser.feed(response.content.decode())
    return "\n".join(parser.parts)


def assert_burmese(text: str, *english: str) -> None:
    """Each of `english` appears in its Burmese translation, and no English UI word is left."""
    with translation.override("my"):
        for source in english:
            burmese = translation.gettext(source)
            assert burmese != source, f"{source!r} has no Burmese translation"
            assert burmese in text, f"{burmese!r} ({source}) is not on the page"
    leftovers = [
        word for word in ENGLISH_UI_WORDS if re.search(rf"(?<![\w-]){re.escape(word)}\b", text)
    ]
    assert not leftovers, f"English left on a Burmese page: {leftovers}"


def burmese_client(login, user) -> Client:
    client = login(user)
    client.cookies[COOKIE] = "my"
    return client


@pytest.mark.django_db
def test_login_page_follows_the_browser_language():
    text = visible_text(Client(HTTP_ACCEPT_LANGUAGE="my").get(reverse("accounts:login")))
    assert_burmese(text, "Log in to Haven", "Password", "Language")


@pytest.mark.django_db
def test_case_list_and_case_detail_in_burmese(login, make_staff):
    case = VerifiedCaseFactory()
    client = burmese_client(login, make_staff(Role.CASE_MANAGER))
    text = visible_text(client.get(reverse("cases:list")))
    assert_burmese(text, "Cases", "Possible duplicates", "Log out", "Find cases", "Verified")
    assert case.code in text
    text = visible_text(client.get(reverse("cases:detail", args=[case.pk])))
    assert_burmese(text, "Summary", "Journey", "Contact and service", "Verified")


@pytest.mark.django_db
def test_occupancy_board_in_burmese(login, make_staff):
    house = HouseFactory()
    BedFactory(room=RoomFactory(house=house))
    client = burmese_client(login, make_staff(Role.HOUSING_COORDINATOR))
    text = visible_text(client.get(reverse("housing:board")))
    assert_burmese(text, "Occupancy board", "Waiting list", "Houses", "Log out")
    assert house.code_name in text


@pytest.mark.django_db
def test_batch_list_in_burmese(login, make_staff):
    officer = make_staff(Role.FINANCE_OFFICER)
    StipendPlanFactory()
    payment_services.disbursement_run(period=timezone.localdate().replace(day=1), actor=officer)
    text = visible_text(burmese_client(login, officer).get(reverse("payments:batches")))
    assert_burmese(text, "Disbursement batches", "Draft", "Pending", "Log out")


@pytest.mark.django_db
def test_staff_list_shows_roles_in_burmese(login, administrator):
    text = visible_text(burmese_client(login, administrator).get(reverse("accounts:staff_list")))
    assert_burmese(text, "Staff", "Administrator")


@pytest.mark.django_db
def test_english_stays_the_default(login, make_staff):
    text = visible_text(login(make_staff(Role.CASE_MANAGER)).get(reverse("cases:list")))
    assert "Cases" in text and "Log out" in text


# --- the language follows the staff member -----------------------------------------------------


@pytest.mark.django_db
def test_burmese_speaker_gets_burmese_after_logging_in(make_staff):
    user = make_staff(Role.CASE_MANAGER, preferred_language="my")
    device = TOTPDeviceFactory(user=user)
    client = Client()
    client.cookies[COOKIE] = "en"  # left behind by the last person at this computer
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "my"
    assert_burmese(visible_text(client.get(reverse("accounts:otp_verify"))), "Enter your code")
    client.post(reverse("accounts:otp_verify"), {"token": current_totp(device)})
    assert_burmese(visible_text(client.get(reverse("cases:list"))), "Cases", "Log out")


@pytest.mark.django_db
def test_english_speaker_gets_english_after_a_burmese_colleague(login, make_staff):
    client = Client()
    client.cookies[COOKIE] = "my"
    login(make_staff(Role.CASE_MANAGER, preferred_language="en"), client)
    text = visible_text(client.get(reverse("cases:list")))
    assert "Cases" in text and "Log out" in text


@pytest.mark.django_db
def test_switching_language_is_remembered_on_the_account(login, make_staff):
    user = make_staff(Role.CASE_MANAGER)
    client = login(user)
    response = client.post(
        reverse("set_language"), {"language": "my", "next": reverse("cases:list")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("cases:list")
    assert User.objects.get(pk=user.pk).preferred_language == "my"
    assert_burmese(visible_text(client.get(reverse("cases:list"))), "Cases")

    # Another day, another computer: Burmese from the password step on.
    elsewhere = Client()
    elsewhere.post(
        reverse("accounts:login"), {"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert_burmese(visible_text(elsewhere.get(reverse("accounts:otp_verify"))), "Enter your code")

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert User.objects.get(pk=user.pk).preferred_language == "en"


@pytest.mark.django_db
def test_switching_to_an_unknown_language_changes_nothing(login, make_staff):
    user = make_staff(Role.CASE_MANAGER, preferred_language="my")
    login(user).post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert User.objects.get(pk=user.pk).preferred_language == "my"


# --- notifications and dates -------------------------------------------------------------------


@pytest.mark.django_db
def test_approvers_are_told_in_their_own_language_without_names(make_staff):
    make_staff(Role.FINANCE_APPROVER, email="en@haven.example", preferred_language="en")
    make_staff(Role.FINANCE_APPROVER, email="my@haven.example", preferred_language="my")
    plan = StipendPlanFactory(case=VerifiedCaseFactory(real_name="Ko Fictional Secret"))
    officer = make_staff(Role.FINANCE_OFFICER)
    [batch] = payment_services.disbursement_run(
        period=timezone.localdate().replace(day=1), actor=officer
    )
    mail.outbox.clear()

    assert notify_batch_ready(batch.pk) == 2

    by_recipient = {tuple(message.to): message for message in mail.outbox}
    assert set(by_recipient) == {("en@haven.example",), ("my@haven.example",)}
    english, burmese = by_recipient[("en@haven.example",)], by_recipient[("my@haven.example",)]
    assert english.subject == f"Haven: batch {batch.label} is ready for approval"
    assert "1 line totalling" in english.body
    with translation.override("my"):
        expected = translation.gettext("Haven: batch %(batch)s is ready for approval")
    assert burmese.subject == expected % {"batch": batch.label}
    assert re.search("[\u1000-\u109f]", burmese.body)
    for message in (english, burmese):
        assert f"/payments/batches/{batch.pk}/" in message.body
        assert "Fictional Secret" not in message.subject + message.body
        assert plan.case.code not in message.body


def test_dates_read_as_staff_expect_in_both_languages():
    day = datetime.date(2026, 1, 15)
    moment = timezone.make_aware(datetime.datetime(2026, 1, 15, 14, 5))
    # One format per language, the short ones too; day first, never US month/day.
    with translation.override("en"):
        assert formats.date_format(day) == "15 Jan 2026"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "15 Jan 2026"
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "15 Jan 2026 14:05"
        assert "%m/%d/%Y" not in formats.get_format("DATE_INPUT_FORMATS")
    with translation.override("my"):
        assert formats.date_format(day) == "15 ဇန်နဝါရီ 2026"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "15 ဇန်နဝါရီ 2026"
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "15 ဇန်နဝါရီ 2026 14:05"
        assert formats.date_format(day, "M Y") == "ဇန် 2026"
        assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%Y-%m-%d"
