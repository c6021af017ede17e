"""Walks the URL resolver and makes one concrete URL per pattern, so that tests cover every
view, including views added later, without a list to keep up to date."""

from __future__ import annotations

import re._parser as regex_parser
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

_CATEGORY_SAMPLES = {
    regex_parser.CATEGORY_DIGIT: "1",
    regex_parser.CATEGORY_WORD: "a",
    regex_parser.CATEGORY_NOT_SPACE: "a",
}


def _sample(parsed) -> str:
    """One string matched by a parsed regular expression (first branch, minimal repeats)."""
    text = []
    for opcode, argument in parsed:
        if opcode is regex_parser.LITERAL:
            text.append(chr(argument))
        elif opcode is regex_parser.SUBPATTERN:
            text.append(_sample(argument[-1]))
        elif opcode is regex_parser.BRANCH:
            text.append(_sample(argument[1][0]))
        elif opcode is regex_parser.IN:
            text.append(_sample_class(argument))
        elif opcode in (regex_parser.MAX_REPEAT, regex_parser.MIN_REPEAT):
            low, _high, item = argument
            text.append(_sample(item) * max(low, 1))
        elif opcode in (regex_parser.ANY, regex_parser.NOT_LITERAL):
            text.append("1")
        elif opcode is regex_parser.AT:
            continue
        else:
            raise ValueError(f"Cannot make a sample URL for regex opcode {opcode}")
    return "".join(text)


def _sample_class(items) -> str:
    for opcode, argument in items:
        if opcode is regex_parser.LITERAL:
            return chr(argument)
        if opcode is regex_parser.RANGE:
            return chr(argument[0])
        if opcode is regex_parser.CATEGORY:
            return _CATEGORY_SAMPLES.get(argument, "a")
    return "1"


@dataclass(frozen=True)
class WalkedURL:
    url: str
    name: str  # "namespace:name", or the pattern text when unnamed


def _regex_of(pattern) -> str:
    return pattern.pattern.regex.pattern


def walk(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[WalkedURL]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        regex = _regex_of(entry).removeprefix("^")
        if isinstance(entry, URLResolver):
            child_namespace = entry.namespace or namespace
            if child_namespace and namespace and entry.namespace:
                child_namespace = f"{namespace}:{entry.namespace}"
            yield from walk(
                entry, prefix + regex.removesuffix("\\Z").removesuffix("$"), child_namespace
            )
        elif isinstance(entry, URLPattern):
            full = prefix + regex.removesuffix("\\Z").removesuffix("$")
            url = "/" + _sample(regex_parser.parse(full))
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or full)
            yield WalkedURL(url=url, name=name)
