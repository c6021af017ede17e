"""Files encrypted in chunks under a data key, written and read a chunk at a time, so that a
large export is never held whole in memory, and destroyed with the key (crypto-erasure).

A file is `hvc1:<data key id>:` followed by chunks, each a 4-byte length and a Fernet token.
Each token encrypts the chunk's number and whether it is the last before the data, so a file
whose chunks were dropped, cut short or put in another order fails its integrity check."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path

from cryptography.fernet import InvalidToken

from protection.keys import ProtectedValueError, data_key_cache

FILE_PREFIX = b"hvc1:"
CHUNK_BYTES = 1024 * 1024
_LENGTH = struct.Struct(">I")
_CHUNK_HEADER = struct.Struct(">Q?")


def _header(data_key_id: int) -> bytes:
    return FILE_PREFIX + f"{data_key_id}:".encode()


class EncryptedFileWriter(io.RawIOBase):
    """A write-only stream that encrypts what it is given into `raw`. Closing it writes the
    last chunk: a file whose writer was not closed cannot be read."""

    def __init__(self, raw: io.RawIOBase | io.BufferedIOBase, *, data_key_id: int) -> None:
        super().__init__()
        fernet = data_key_cache.get(data_key_id)
        if fernet is None:
            raise ProtectedValueError("Cannot encrypt under a destroyed data key.")
        self._fernet = fernet
        self._raw = raw
        self._buffer = bytearray()
        self._index = 0
        self._position = 0
        raw.write(_header(data_key_id))

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def write(self, data) -> int:
        if self.closed:
            raise ValueError("write to a closed file")
        view = bytes(data)
        self._buffer += view
        self._position += len(view)
        while len(self._buffer) >= CHUNK_BYTES:
            self._write_chunk(bytes(self._buffer[:CHUNK_BYTES]), last=False)
            del self._buffer[:CHUNK_BYTES]
        return len(view)

    def _write_chunk(self, data: bytes, *, last: bool) -> None:
        token = self._fernet.encrypt(_CHUNK_HEADER.pack(self._index, last) + data)
        self._raw.write(_LENGTH.pack(len(token)) + token)
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            self._write_chunk(bytes(self._buffer), last=True)
            self._buffer = bytearray()
            self._raw.flush()
        super().close()


def read_encrypted_file(path: Path, *, data_key_id: int) -> Iterator[bytes]:
    """The decrypted content of `path`, a chunk at a time. Raises ProtectedValueError when the
    key is destroyed or the file is not whole, as soon as that is known."""
    fernet = data_key_cache.get(data_key_id)
    if fernet is None:
        raise ProtectedValueError("This file has been erased.")
    with path.open("rb") as stored:
        header = _header(data_key_id)
        if stored.read(len(header)) != header:
            raise ProtectedValueError("A stored file does not belong to this data key.")
        index = 0
        while True:
            length_bytes = stored.read(_LENGTH.size)
            if len(length_bytes) != _LENGTH.size:
                raise ProtectedValueError("A stored file is cut short.")
            (length,) = _LENGTH.unpack(length_bytes)
            token = stored.read(length)
            try:
                plaintext = fernet.decrypt(token)
            except InvalidToken as error:
                raise ProtectedValueError("A stored file fails its integrity check.") from error
            number, last = _CHUNK_HEADER.unpack_from(plaintext)
            if number != index:
                raise ProtectedValueError("A stored file's chunks are out of order.")
            yield plaintext[_CHUNK_HEADER.size :]
            if last:
                if stored.read(1):
                    raise ProtectedValueError("A stored file has data after its end.")
                return
            index += 1
