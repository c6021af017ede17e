"""Envelope encryption: master keys wrap data keys, data keys encrypt protected values.

Values are encrypted with Fernet under a *data key*; data keys are stored only wrapped by the
*master keys* (`HAVEN_FIELD_KEYS`, newest first, a MultiFernet). Rotating a master key re-wraps
the data keys and rewrites no value; destroying a data key (protection/erasure.py) crypto-erases
every value under it.

A stored value looks like `hv1:<data key id>:<Fernet token>`: PostgreSQL only ever holds
ciphertext.
"""

from __future__ import annotations

import threading
import time

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from protection.models import DataKey

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

    raw_key = Fernet.generate_key()
    data_key = DataKey.objects.create(purpose=purpose, wrapped_key=wrap_key(raw_key))
    data_key_cache.put(data_key.pk, Fernet(raw_key))
    return data_key


def shared_data_key(*, purpose: str):
    """The data key shared by rows that have no key of their own (e.g. house addresses)."""

    existing = (
        DataKey.objects.filter(purpose=purpose, destroyed_at__isnull=True).order_by("pk").first()
    )
    return existing or create_data_key(purpose=purpose)


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
