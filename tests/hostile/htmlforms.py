"""Reads the forms of a rendered page as a browser would submit them: each <form> with its
method, action and the names, kinds and options of its inputs, selects, textareas and buttons."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# Inputs that a person cannot fill in, or that would end the test's session.
IGNORED_NAMES = {"csrfmiddlewaretoken"}
SKIPPED_ACTIONS = ("/accounts/logout/",)


@dataclass
class FormField:
    name: str
    kind: str  # text, textarea, select, radio, checkbox, hidden, number, date, file, submit, ...
    options: list[str] = field(default_factory=list)
    value: str = ""
    multiple: bool = False
    required: bool = False
    max_length: int | None = None


@dataclass
class ParsedForm:
    method: str
    action: str  # a path with its query string
    multipart: bool
    fields: dict[str, FormField] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        """Two forms with the same target and the same field names post the same way."""
        return (self.method, self.action, tuple(sorted(self.fields)))

    def add(self, new: FormField) -> None:
        existing = self.fields.get(new.name)
        if existing is None:
            self.fields[new.name] = new
            return
        # Radio groups, checkbox lists and several submit buttons share one name.
        existing.options.extend(option for option in new.options if option not in existing.options)
        if new.kind == "checkbox":
            existing.multiple = True


class _FormParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[ParsedForm] = []
        self._form: ParsedForm | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value if value is not None else "" for name, value in attrs}
        if tag == "form":
            action = urljoin(self.page_url, attributes.get("action") or self.page_url)
            parts = urlsplit(action)
            self._form = ParsedForm(
                method=(attributes.get("method") or "get").lower(),
                action=parts.path + (f"?{parts.query}" if parts.query else ""),
                multipart="multipart" in attributes.get("enctype", ""),
            )
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attributes.get("name", "")
        if tag in ("input", "button", "select", "textarea") and (not name or name in IGNORED_NAMES):
            return
        if tag == "input":
            kind = attributes.get("type", "text").lower()
            value = attributes.get("value", "on" if kind in ("checkbox", "radio") else "")
            self._form.add(
                FormField(
                    name=name,
                    kind=kind,
                    options=[value] if kind in ("checkbox", "radio", "submit") else [],
                    value=value
                    if kind not in ("checkbox", "radio") or "checked" in attributes
                    else "",
                    required="required" in attributes,
                    max_length=_int_or_none(attributes.get("maxlength")),
                )
            )
        elif tag == "button":
            if attributes.get("type", "submit").lower() == "submit":
                value = attributes.get("value", "")
                self._form.add(FormField(name=name, kind="submit", options=[value], value=value))
        elif tag == "select":
            self._select = FormField(
                name=name,
                kind="select",
                multiple="multiple" in attributes,
                required="required" in attributes,
            )
            self._form.add(self._select)
            self._select = self._form.fields[name]
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            if value not in self._select.options:
                self._select.options.append(value)
            if "selected" in attributes:
                self._select.value = value
        elif tag == "textarea":
            self._textarea = FormField(
                name=name,
                kind="textarea",
                required="required" in attributes,
                max_length=_int_or_none(attributes.get("maxlength")),
            )
            self._form.add(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text and text.isdecimal() else None


def forms_of(html: str, page_url: str) -> list[ParsedForm]:
    """The forms on a page that a signed-in person can submit (logging out is left out)."""
    parser = _FormParser(page_url)
    parser.feed(html)
    return [form for form in parser.forms if not form.action.startswith(SKIPPED_ACTIONS)]
