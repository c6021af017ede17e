"""Envelope encryption of protected fields, blind indexes and masking.

Values are encrypted with Fernet under a *data key*; data keys are stored only wrapped by the
*master keys* (`HAVEN_FIELD_KEYS`, newest first, a MultiFernet). Rotating a master key re-wraps
the data keys and rewrites no value; destroying a data key crypto-erases every value under it.

A stored value looks like `hv1:<data key id>:<Fernet token>`: PostgreSQL only ever holds
ciphertext. Values are decrypted lazily, when the attribute is read, so a list that shows only
case codes never decrypts anything.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import hmac
import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import redaction
from accounts.choice_labels import CachedChoiceLabels

CIPHERTEXT_PREFIX = "hv1:"


class Ciphertext(str):
    """A stored, still-encrypted value as read from the database."""

    __slots__ = ()


class Erased(str):
    """What a protected attribute reads as once its data key has been destroyed."""

    __slots__ = ()

    def __new__(cls) -> Erased:
        return super().__new__(cls, "[erased]")


ERASED = Erased()


class ProtectedValueError(Exception):
    """A protected value cannot be encrypted or decrypted (missing key, tampered value)."""


# --- master keys ---------------------------------------------------------------------------


def master_keys() -> list[Fernet]:
    keys = settings.HAVEN_FIELD_KEYS
    if not keys:
        raise ImproperlyConfigured("HAVEN_FIELD_KEYS must list at least one Fernet key.")
    try:
        return [Fernet(key.strip().encode()) for key in keys]
    except ValueError as error:
        raise ImproperlyConfigured(
            "Every key in HAVEN_FIELD_KEYS must be a 32-byte url-safe base64 Fernet key "
            "(python manage.py generate_keys makes one)."
        ) from error


def wrap_key(raw_key: bytes) -> bytes:
    return MultiFernet(master_keys()).encrypt(raw_key)


def unwrap_key(wrapped_key: bytes) -> bytes:
    try:
        return MultiFernet(master_keys()).decrypt(bytes(wrapped_key))
    except InvalidToken as error:
        raise ProtectedValueError(
            "A data key cannot be unwrapped by any key in HAVEN_FIELD_KEYS."
        ) from error


def is_wrapped_by_newest_master_key(wrapped_key: bytes) -> bool:
    try:
        master_keys()[0].decrypt(bytes(wrapped_key))
    except InvalidToken:
        return False
    return True


def rewrap_key(wrapped_key: bytes) -> bytes:
    """Re-encrypt a wrapped data key under the newest master key."""
    try:
        return MultiFernet(master_keys()).rotate(bytes(wrapped_key))
    except InvalidToken as error:
        raise ProtectedValueError(
            "A data key cannot be unwrapped by any key in HAVEN_FIELD_KEYS."
        ) from error


# --- data keys -----------------------------------------------------------------------------


class _DataKeyCache:
    """Unwrapped data keys, kept in this process only, for a short time.

    The time limit bounds how long another process can still read values after a data key is
    destroyed; the process that destroys a key forgets it at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[int, tuple[float, Fernet | None]] = {}

    def get(self, key_id: int) -> Fernet | None:
        now = time.monotonic()
        with self._lock:
            cached = self._keys.get(key_id)
            if cached and cached[0] > now:
                return cached[1]
        from accounts.models import DataKey

        wrapped = DataKey.objects.filter(pk=key_id).values_list("wrapped_key", flat=True).first()
        fernet = Fernet(unwrap_key(wrapped)) if wrapped is not None else None
        with self._lock:
            self._keys[key_id] = (now + settings.HAVEN_DATA_KEY_CACHE_SECONDS, fernet)
        return fernet

    def put(self, key_id: int, fernet: Fernet | None) -> None:
        with self._lock:
            self._keys[key_id] = (
                time.monotonic() + settings.HAVEN_DATA_KEY_CACHE_SECONDS,
                fernet,
            )

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


data_key_cache = _DataKeyCache()


def create_data_key(*, purpose: str):
    """Generate a fresh data key and store it wrapped by the newest master key."""
    from accounts.models import DataKey

    raw_key = Fernet.generate_key()
    data_key = DataKey.objects.create(purpose=purpose, wrapped_key=wrap_key(raw_key))
    data_key_cache.put(data_key.pk, Fernet(raw_key))
    return data_key


def shared_data_key(*, purpose: str):
    """The data key shared by rows that have no key of their own (e.g. house addresses)."""
    from accounts.models import DataKey

    existing = (
        DataKey.objects.filter(purpose=purpose, destroyed_at__isnull=True).order_by("pk").first()
    )
    return existing or create_data_key(purpose=purpose)


@transaction.atomic
def destroy_data_key(data_key) -> None:
    """Crypto-erase: forget the data key, so every value under it becomes unreadable.

    The blind indexes of the rows under the key are blanked too: they are keyed hashes of the
    erased values, so they would still let anyone who can search confirm that a given service
    number was in the database (and service numbers are few enough to try them all).
    """
    from accounts.models import DataKey

    for model in apps.get_models():
        if not issubclass(model, ProtectedModel) or model._meta.proxy:
            continue
        index_fields = [
            field for field in model._meta.concrete_fields if isinstance(field, BlindIndexField)
        ]
        if index_fields:
            model._base_manager.filter(data_key_id=data_key.pk).update(
                **{field.attname: "" for field in index_fields}
            )
    DataKey.objects.filter(pk=data_key.pk).update(wrapped_key=None, destroyed_at=timezone.now())
    data_key_cache.put(data_key.pk, None)


def encrypt_text(plaintext: str, *, data_key_id: int) -> str:
    fernet = data_key_cache.get(data_key_id)
    if fernet is None:
        raise ProtectedValueError("Cannot encrypt under a destroyed data key.")
    token = fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")
    return f"{CIPHERTEXT_PREFIX}{data_key_id}:{token}"


def encrypt_bytes(data: bytes, *, data_key_id: int) -> bytes:
    """Encrypt a file's content under a data key (the key id travels with the ciphertext)."""
    fernet = data_key_cache.get(data_key_id)
    if fernet is None:
        raise ProtectedValueError("Cannot encrypt under a destroyed data key.")
    return f"{CIPHERTEXT_PREFIX}{data_key_id}:".encode() + fernet.encrypt(data)


def decrypt_bytes(stored: bytes, *, data_key_id: int) -> bytes:
    """Decrypt a file's content; raises ProtectedValueError once its data key is destroyed."""
    header = f"{CIPHERTEXT_PREFIX}{data_key_id}:".encode()
    if not stored.startswith(header):
        raise ProtectedValueError("A stored file does not belong to this data key.")
    fernet = data_key_cache.get(data_key_id)
    if fernet is None:
        raise ProtectedValueError("This file has been erased.")
    try:
        return fernet.decrypt(stored[len(header) :])
    except InvalidToken as error:
        raise ProtectedValueError("A stored file fails its integrity check.") from error


def decrypt_text(stored: str) -> str:
    """Decrypt a stored value; returns ERASED when its data key has been destroyed."""
    try:
        prefix_and_id, token = stored.rsplit(":", 1)
        data_key_id = int(prefix_and_id.removeprefix(CIPHERTEXT_PREFIX))
    except ValueError as error:
        raise ProtectedValueError("A stored protected value is malformed.") from error
    fernet = data_key_cache.get(data_key_id)
    if fernet is None:
        return ERASED
    try:
        return fernet.decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise ProtectedValueError("A stored protected value fails its integrity check.") from error


# --- the model field -----------------------------------------------------------------------


class ProtectedModel(CachedChoiceLabels, models.Model):
    """Base for models with encrypted fields: each row names the data key its values use.

    By default rows share one data key per model; a model can override `new_data_key()` to
    give each row (e.g. each case) a key of its own, so that it can be erased on its own.
    """

    data_key = models.ForeignKey(
        "accounts.DataKey",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("data key"),
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.ensure_data_key()
        super().save(*args, **kwargs)

    def new_data_key(self):
        return shared_data_key(purpose=self._meta.label_lower)

    def ensure_data_key(self) -> None:
        if self.data_key_id is None:
            self.data_key = self.new_data_key()


class _EncryptedAttribute(DeferredAttribute):
    """Decrypts on first read and remembers the ciphertext, so an unchanged value is not
    re-encrypted on save."""

    def __get__(self, instance: models.Model | None, cls: type | None = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Ciphertext):
            plaintext = self.field.from_plaintext(decrypt_text(value))
            instance.__dict__[self.field.attname] = plaintext
            _remembered_ciphertexts(instance)[self.field.attname] = (value, plaintext)
            if plaintext is not ERASED:
                redaction.remember(plaintext)
            return plaintext
        return value

    def __set__(self, instance: models.Model, value: Any) -> None:
        if (
            isinstance(value, str)
            and not isinstance(value, Ciphertext | Erased)
            and value.startswith(CIPHERTEXT_PREFIX)
        ):
            value = Ciphertext(value)
        instance.__dict__[self.field.attname] = value


def _remembered_ciphertexts(instance: models.Model) -> dict[str, tuple[Ciphertext, Any]]:
    return instance.__dict__.setdefault("_haven_ciphertexts", {})


class EncryptedField(models.TextField):
    """A protected value stored only as ciphertext. Exact look-ups need a BlindIndexField."""

    descriptor_class = _EncryptedAttribute

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.max_plaintext_length = kwargs.pop("max_plaintext_length", None)
        super().__init__(*args, **kwargs)
        if self.max_plaintext_length:
            self.validators.append(_max_length_validator(self.max_plaintext_length))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.max_plaintext_length:
            kwargs["max_plaintext_length"] = self.max_plaintext_length
        return name, path, args, kwargs

    # Conversions between the Python value and the plaintext string; subclasses override.
    def to_plaintext(self, value: Any) -> str:
        return str(value)

    def from_plaintext(self, text: str) -> Any:
        return text

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else Ciphertext(value)

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, Ciphertext | Erased):
            return value
        if isinstance(value, str) and value.startswith(CIPHERTEXT_PREFIX):
            return Ciphertext(value)
        return value

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        value = model_instance.__dict__.get(self.attname)
        if value is None or (value == "" and self.null):
            return None
        if isinstance(value, Ciphertext):
            return value
        remembered = _remembered_ciphertexts(model_instance).get(self.attname)
        if remembered and (value is remembered[1] or value == remembered[1]):
            return remembered[0]
        if isinstance(value, Erased):
            raise ProtectedValueError("An erased value cannot be saved again.")
        if getattr(model_instance, "data_key_id", None) is None:
            raise ProtectedValueError(
                f"{type(model_instance).__name__} has no data key: it must inherit "
                "ProtectedModel and be saved through save() or given a data key."
            )
        plaintext = self.to_plaintext(value)
        redaction.remember(plaintext)
        ciphertext = Ciphertext(encrypt_text(plaintext, data_key_id=model_instance.data_key_id))
        _remembered_ciphertexts(model_instance)[self.attname] = (ciphertext, value)
        return ciphertext

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, Ciphertext):
            return value
        # Plaintext never reaches SQL: saving goes through pre_save, and look-ups are refused.
        raise ProtectedValueError(
            "Protected fields cannot be compared in SQL; look them up through a blind index."
        )

    # isnull, and the "is (not) distinct from" look-ups that history triggers use to compare a
    # row's old and new ciphertext. Nothing compares plaintext in SQL.
    ALLOWED_LOOKUPS = frozenset({"isnull", "df", "ndf"})

    def get_lookup(self, lookup_name: str):
        if lookup_name not in self.ALLOWED_LOOKUPS:
            return None
        return super().get_lookup(lookup_name)

    def value_to_string(self, obj: models.Model) -> str | None:
        """Serialisation (dumpdata, backups) writes the ciphertext, never the plaintext."""
        value = obj.__dict__.get(self.attname)
        if value is None or isinstance(value, Ciphertext):
            return value
        remembered = _remembered_ciphertexts(obj).get(self.attname)
        if remembered:
            return str(remembered[0])
        raise ProtectedValueError("Save the object before serialising a protected field.")

    def formfield(self, **kwargs: Any):
        defaults = {"form_class": forms.CharField, "max_length": self.max_plaintext_length}
        defaults.update(kwargs)
        return super().formfield(**defaults)


def _max_length_validator(limit: int) -> Callable[[Any], None]:
    def validate(value: Any) -> None:
        if isinstance(value, str) and not isinstance(value, Ciphertext) and len(value) > limit:
            raise ValidationError(
                _("Ensure this value has at most %(limit)d characters."),
                code="max_length",
                params={"limit": limit},
            )

    return validate


class _ProtectedDateFormField(forms.DateField):
    def has_changed(self, initial: Any, data: Any) -> bool:
        # The initial value is ISO text (see EncryptedDateField.value_from_object).
        if isinstance(initial, str) and not isinstance(initial, Erased):
            with contextlib.suppress(ValueError):
                initial = datetime.date.fromisoformat(initial)
        return super().has_changed(initial, data)


class EncryptedDateField(EncryptedField):
    """A protected date (e.g. date of birth), stored encrypted as ISO text."""

    def to_plaintext(self, value: Any) -> str:
        if isinstance(value, str):
            value = datetime.date.fromisoformat(value)
        return value.isoformat()

    def from_plaintext(self, text: str) -> Any:
        if isinstance(text, Erased):
            return text
        return datetime.date.fromisoformat(text)

    def value_from_object(self, obj: models.Model) -> Any:
        # Serialisers (dumpdata, the json serialiser) write a date as it is, and anything else
        # through value_to_string, i.e. as ciphertext; given as ISO text, a protected date
        # takes that path too. Forms read their initial value from here and accept the text.
        value = super().value_from_object(obj)
        if isinstance(value, datetime.date):
            return value.isoformat()
        return value

    def formfield(self, **kwargs: Any):
        return models.Field.formfield(self, **{"form_class": _ProtectedDateFormField, **kwargs})


# --- blind indexes ---------------------------------------------------------------------------


def normalise_identifier(value: str) -> str:
    """Service and ID numbers match whatever their case, spacing and punctuation."""
    folded = unicodedata.normalize("NFKC", str(value)).casefold()
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


# --- masking ---------------------------------------------------------------------------------


def mask(value: Any) -> str:
    """A display for roles that may not see a protected value: "Thura Aung" -> "Th*** A***".

    Always three stars, so the mask does not reveal the length. Dates and numbers are hidden
    whole.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, Erased):
        return str(value)
    if not isinstance(value, str) or any(character.isdigit() for character in value):
        return "*****"
    words = value.split()
    return " ".join(
        (word[:2] if position == 0 and len(word) > 2 else word[:1]) + "***"
        for position, word in enumerate(words)
    )
