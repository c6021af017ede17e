"""Hypothesis strategies for what an attacker, a broken client or an unlucky copy-paste posts:
control characters (NUL among them, which PostgreSQL refuses in text), injection attempts,
every script of Unicode, lone surrogates, wrong types, absurd numbers and impossible dates."""

from __future__ import annotations

import datetime

from hypothesis import strategies as st

from tests.hostile.htmlforms import FormField, ParsedForm

# Markup that would run if a page printed it unescaped; each carries a marker to look for.
SCRIPT_PAYLOADS = (
    "\"'><img src=x onerror=alert('hv-xss')>",  # short enough for 50-character fields
    "<script>alert('hv-xss')</script>",
    '"><img src=x onerror=alert("hv-xss")>',
    "'><svg onload=alert('hv-xss')>",
    "</textarea><script>alert('hv-xss')</script>",
    "javascript:alert('hv-xss')//<iframe src=javascript:alert('hv-xss')>",
)

NASTY_TEXT = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 20,
    "\x01\x02\x03\x07\x08\x0b\x0c\x1b\x7f",
    "\r\n\r\n",
    "\t",
    "' OR '1'='1",
    "'; DROP TABLE cases_case; --",
    "1; SELECT pg_sleep(10)",
    "%",
    "_",
    "\\",
    "%00",
    "{{ request }}",
    "{% debug %}",
    "${7*7}",
    "../../etc/passwd",
    "ဗိုလ်မှူး အောင်ကျော်",  # Myanmar
    "\u1000\u103a\u1039\u1000",  # Myanmar virama and asat stacked
    "محمد عبد الله",  # Arabic
    "שלום",  # Hebrew
    "王小明",  # CJK
    "김철수",  # Hangul
    "ศรีสมร",  # Thai
    "😀👨‍👩‍👧‍👦🏳️‍🌈",
    "\u202etxt.exe",  # right-to-left override
    "\u2066\u2067\u2068\u2069\u200e\u200f",
    "\u200b\u200c\u200d\ufeff",
    "e\u0301\u0302\u0303\u0304\u0305\u0306\u0307",  # stacked combining marks
    "\U0001d54f\U0001d550",  # mathematical letters outside the BMP
    "\ufffd\ufffe\uffff",
    "\ud800",  # a lone surrogate: sent as the bytes a broken client would send
    "\udfff\ud83d",
    "Ａ１２３",  # full-width
    "²³¹",  # digits for str.isdigit, not for int()
    "١٢٣",  # Arabic-Indic digits
    *SCRIPT_PAYLOADS,
)

NASTY_NUMBERS = (
    "0",
    "-1",
    "-0",
    "1.5",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "0x1F",
    "9" * 40,
    "-" + "9" * 40,
    "2147483648",
    "9223372036854775808",
    "99999999999999999999.99",
    "0.000000000000000000001",
    "1,000",
    " 12 ",
    "²",
    "١٢",
    "１２",
)

NASTY_DATES = (
    "2024-02-30",
    "2023-02-29",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "-2024-01-01",
    "2024-13-01",
    "2024-00-10",
    "31/12/2024",
    "2024-1-1",
    "1900-01-01",
    "2024-01",
    "2024-W01",
    "2024-06-15T10:00",
)

# The deterministic sweep: every field of a form at once gets the nasty value of its kind,
# while choices and buttons keep a proper value so that the post reaches the code behind them.
SWEEPS = (
    {"number": "²", "date": "2024-02-30", "text": "a\x00b"},
    {"number": "9" * 40, "date": "10000-01-01", "text": SCRIPT_PAYLOADS[0] + "\ud800\u202e"},
    {"number": "-1", "date": "0000-00-00", "text": "ဗ" * 6000},
)


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit()


def sweep_submission(form: ParsedForm, sweep: dict[str, str]) -> dict[str, str]:
    data = {}
    for name, field in form.fields.items():
        if field.kind == "file":
            continue
        options = [option for option in field.options if option]
        if field.kind != "submit" and options and all(_is_id(option) for option in options):
            data[name] = sweep["number"]  # a choice of database ids
        elif field.kind in ("select", "radio", "checkbox", "submit"):
            data[name] = field.value or (options[0] if options else "")
        elif field.kind == "number" or _is_id(field.value):
            data[name] = sweep["number"]
        elif field.kind == "date":
            data[name] = sweep["date"]
        elif field.kind == "hidden" and field.value:
            data[name] = field.value  # what tells the view which action is posted
        else:
            data[name] = sweep["text"]
    return data


surrogate_text = st.text(
    alphabet=st.characters(codec=None, categories=("Cs", "Cc", "Co", "Cf", "Mn", "Zs")),
    max_size=20,
)
any_text = st.text(alphabet=st.characters(codec=None), max_size=40)
long_text = st.sampled_from(("A", "ဗ", "\x00", "<", "😀", "'")).map(lambda unit: unit * 12_000)
medium_text = st.sampled_from(("A", "ဗ", "😀", "<b>")).flatmap(
    lambda unit: st.integers(min_value=190, max_value=5_100).map(lambda count: unit * count)
)


def hostile_text() -> st.SearchStrategy[str]:
    """One hostile string, often built from several nasty pieces."""
    piece = st.one_of(
        st.sampled_from(NASTY_TEXT),
        st.sampled_from(NASTY_NUMBERS),
        st.sampled_from(NASTY_DATES),
        any_text,
        surrogate_text,
    )
    return st.one_of(
        piece,
        piece,
        st.lists(piece, min_size=2, max_size=4).map("".join),
        piece,
        medium_text,
        long_text,
    )


def plausible_value(field: FormField) -> st.SearchStrategy[str]:
    """What a person might type in: mostly accepted, so that the happy path is exercised too."""
    if field.kind == "date":
        return st.dates(min_value=datetime.date(1950, 1, 1), max_value=datetime.date.today()).map(
            datetime.date.isoformat
        )
    if field.kind == "number":
        return st.integers(min_value=0, max_value=5000).map(str)
    if field.kind == "month":
        return st.sampled_from(("2025-01", "2025-12", datetime.date.today().strftime("%Y-%m")))
    words = st.sampled_from(
        ("Ko Aung", "ဦးမောင်", "Mae Sot", "checked", "safe", "<b>bold</b>", "O'Brien", "1000")
    )
    return st.one_of(st.just(field.value), words) if field.value else words


def value_for(field: FormField) -> st.SearchStrategy:
    """A value for one field: sometimes a proper choice, sometimes anything at all; None leaves
    the field out of the post, a list repeats it."""
    if field.kind in ("select", "radio", "checkbox", "submit") and field.options:
        proper = st.sampled_from(field.options)
        if field.multiple:
            proper = st.lists(proper, max_size=3, unique=True)
        return st.one_of(
            proper,
            proper,
            hostile_text(),
            st.none(),
            st.lists(hostile_text(), min_size=2, max_size=3),
        )
    if field.kind == "number" or (field.value.isascii() and field.value.isdigit()):
        # A number, or the database id of a hidden field: numbers that break naive parsing.
        return st.one_of(
            st.just(field.value) if field.value else plausible_value(field),
            st.sampled_from(NASTY_NUMBERS),
            hostile_text(),
            st.none(),
        )
    if field.kind == "hidden" and field.value:
        # Often what tells the view which action is posted: mostly kept, so it is reached.
        return st.one_of(st.just(field.value), st.just(field.value), hostile_text(), st.none())
    return st.one_of(
        plausible_value(field),
        plausible_value(field),
        hostile_text(),
        st.sampled_from(NASTY_NUMBERS) if field.kind == "number" else hostile_text(),
        st.sampled_from(NASTY_DATES) if field.kind == "date" else hostile_text(),
        st.none(),
        st.lists(hostile_text(), min_size=2, max_size=3),
    )


@st.composite
def submissions(draw, form: ParsedForm) -> dict[str, object]:
    """A whole post for a form, with now and then a field it does not expect."""
    data = {}
    for name, field in sorted(form.fields.items()):
        if field.kind == "file":
            continue
        value = draw(value_for(field))
        if value is not None and value != []:
            data[name] = value
    extra = draw(
        st.dictionaries(
            st.sampled_from(("pk", "id", "status", "version", "page", "\x00", "<x>", "a" * 300)),
            hostile_text(),
            max_size=2,
        )
    )
    for name, value in extra.items():
        data.setdefault(name, value)
    return data


@st.composite
def query_strings(draw, form: ParsedForm | None = None) -> dict[str, object]:
    """Query parameters for a list or filter page: its own fields, paging and junk."""
    data = draw(submissions(form)) if form is not None else {}
    if draw(st.booleans()):
        data["page"] = draw(
            st.one_of(st.sampled_from(NASTY_NUMBERS), st.sampled_from(("last", "1", "2"))),
        )
    for name in draw(
        st.lists(
            st.sampled_from(
                (
                    "q",
                    "sort",
                    "order",
                    "next",
                    "case",
                    "kind",
                    "status",
                    "town",
                    "month",
                    "model",
                    "action",
                    "username",
                )
            ),
            max_size=2,
        )
    ):
        data.setdefault(name, draw(hostile_text()))
    return data
