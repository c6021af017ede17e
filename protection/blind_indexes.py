"""Blind indexes: keyed hashes of normalised protected values, for exact-match look-ups of
values that are stored only encrypted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from protection.keys import Ciphertext, Erased


def western_digits(value: str) -> str:
    """Every decimal digit written as 0-9: Myanmar digits (၀-၉, also Shan ႐-႙) and any other
    script's, so that "၃၈၃၀၅၇" and "383057" are one number wherever numbers are typed."""
    return "".join(
        str(unicodedata.decimal(character)) if character.isdecimal() else character
        for character in str(value)
    )


def normalise_identifier(value: str) -> str:
    """Service and ID numbers match whatever their case, spacing and punctuation, and whatever
    script their digits are written in ("PL-၃၈၃၀၅၇" is "PL-383057")."""
    folded = western_digits(unicodedata.normalize("NFKC", str(value)).casefold())
    return "".join(character for character in folded if character.isalnum())


def blind_index(
    value: str, *, purpose: str, normalise: Callable[[str], str] = normalise_identifier
) -> str:
    """Keyed hash (HMAC-SHA256) of a normalised value: equal inputs match, nothing is revealed."""
    key = settings.HAVEN_BLIND_INDEX_KEY
    if not key:
        raise ImproperlyConfigured("HAVEN_BLIND_INDEX_KEY must be set.")
    message = f"{purpose}\x00{normalise(value)}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


# Honorifics and name particles that Burmese names carry or drop from one telling to the next.
NAME_PARTICLES = frozenset(
    {"u", "daw", "ko", "ma", "maung", "mg", "saw", "naw", "nang", "sai", "nan"}
)


def normalise_name(value: str) -> str:
    """Names match whatever their case, spacing, punctuation and honorifics (U, Daw, Ko, Ma…)."""
    folded = unicodedata.normalize("NFKC", str(value)).casefold()
    words = [
        "".join(character for character in word if character.isalnum()) for word in folded.split()
    ]
    kept = [word for word in words if word and word not in NAME_PARTICLES]
    return "".join(kept or words)


NORMALISERS: dict[str, Callable[[str], str]] = {
    "identifier": normalise_identifier,
    "name": normalise_name,
}


class BlindIndexField(models.CharField):
    """Keeps the blind index of one or more (encrypted) fields of the same model up to date.

    With several sources (e.g. name and date of birth) the index matches only when all of them
    match; it is empty while any of them is missing.
    """

    def __init__(
        self,
        *args: Any,
        source: str | tuple[str, ...] | list[str],
        purpose: str | None = None,
        normalise: str = "identifier",
        **kwargs: Any,
    ) -> None:
        self.sources = (source,) if isinstance(source, str) else tuple(source)
        self.source = self.sources[0] if len(self.sources) == 1 else self.sources
        self.purpose = purpose
        if normalise not in NORMALISERS:
            raise ImproperlyConfigured(f"Unknown blind-index normaliser {normalise!r}.")
        self.normalise = normalise
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source if isinstance(self.source, str) else list(self.sources)
        if self.purpose:
            kwargs["purpose"] = self.purpose
        if self.normalise != "identifier":
            kwargs["normalise"] = self.normalise
        return name, path, args, kwargs

    @property
    def index_purpose(self) -> str:
        return self.purpose or f"{self.model._meta.label_lower}.{'+'.join(self.sources)}"

    def digest(self, *values: Any) -> str:
        """The index of plaintext values, one per source, in order."""
        normalise = NORMALISERS[self.normalise]
        joined = "\x1f".join(normalise(str(value)) for value in values)
        return blind_index(joined, purpose=self.index_purpose, normalise=lambda text: text)

    def index_of(self, model_instance: models.Model, *values: Any) -> str:
        """The index of (decrypted) source values; empty if any is missing or erased."""
        if any(value is None or value == "" or isinstance(value, Erased) for value in values):
            return ""
        plaintexts = [
            model_instance._meta.get_field(name).to_plaintext(value)
            for name, value in zip(self.sources, values, strict=True)
        ]
        return self.digest(*plaintexts)

    def digest_of(self, model_instance: models.Model) -> str:
        """The index for the instance's current values (decrypting stored ones)."""
        return self.recompute(model_instance)

    def recompute(self, model_instance: models.Model) -> str:
        """The index of the stored source values under the current HAVEN_BLIND_INDEX_KEY
        (decrypting them), e.g. after that key changed."""
        values = [
            getattr(model_instance, model_instance._meta.get_field(name).attname)
            for name in self.sources
        ]
        return self.index_of(model_instance, *values)

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        raw = [
            model_instance.__dict__.get(model_instance._meta.get_field(name).attname)
            for name in self.sources
        ]
        if all(isinstance(value, Ciphertext) for value in raw):  # unchanged since loaded
            index = model_instance.__dict__.get(self.attname, "")
        else:
            index = self.recompute(model_instance)
        setattr(model_instance, self.attname, index)
        return index


def blind_index_filter(model: type[models.Model], source: str, value: str) -> models.Q:
    """A filter matching rows whose encrypted `source` field equals `value`."""
    for field in model._meta.get_fields():
        if isinstance(field, BlindIndexField) and field.sources == (source,):
            return models.Q(**{field.name: field.digest(value)})
    raise ImproperlyConfigured(f"{model.__name__}.{source} has no blind index.")
