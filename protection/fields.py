"""Encrypted model fields: values are decrypted lazily, when the attribute is read, so a list
that shows only case codes never decrypts anything."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _

from protection import redaction
from protection.choice_labels import CachedChoiceLabels
from protection.keys import (
    CIPHERTEXT_PREFIX,
    ERASED,
    Ciphertext,
    Erased,
    ProtectedValueError,
    decrypt_text,
    encrypt_text,
    shared_data_key,
)


class ProtectedModel(CachedChoiceLabels, models.Model):
    """Base for models with encrypted fields: each row names the data key its values use.

    By default rows share one data key per model; a model can override `new_data_key()` to
    give each row (e.g. each case) a key of its own, so that it can be erased on its own.
    """

    data_key = models.ForeignKey(
        "protection.DataKey",
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
        # Only what the database returns (from_db_value) or a serialised record holds
        # (to_python) is ciphertext. Anything set here is plaintext, whatever it starts with:
        # typing another record's stored "hv1:…" must not make that record's value ours.
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
        """Deserialisation (loaddata, a test's serialised rollback) reads ciphertext here."""
        if value is None or isinstance(value, Ciphertext | Erased):
            return value
        if isinstance(value, str) and value.startswith(CIPHERTEXT_PREFIX):
            return Ciphertext(value)
        return value

    def clean(self, value: Any, model_instance: models.Model | None) -> Any:
        """Validation (full_clean, model forms, the admin) of a value someone typed: it stays
        plaintext even if it looks like ciphertext; only an unchanged stored value is kept."""
        if value is None or isinstance(value, Ciphertext | Erased):
            return super().clean(value, model_instance)
        self.validate(value, model_instance)
        self.run_validators(value)
        return value

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        # A stored value (still encrypted, or erased) was checked when it was written: its
        # ciphertext is not one of the field's choices, and need not be.
        if isinstance(value, Ciphertext | Erased):
            return
        super().validate(value, model_instance)

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
