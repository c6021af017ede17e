"""Files encrypted in chunks (protection/files.py): read back whole, a chunk at a time; a file
cut short, with chunks dropped or swapped, or under a destroyed key, is refused, never read in
part as if it were whole."""

from __future__ import annotations

import struct

import pytest

from protection import files
from protection.erasure import destroy_data_key
from protection.files import EncryptedFileWriter, read_encrypted_file
from protection.keys import ProtectedValueError, create_data_key

pytestmark = pytest.mark.django_db

SECRET = b"Ko Zaw Lin, service number 12345\n"


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(files, "CHUNK_BYTES", 64)


def write(path, data: bytes, key) -> None:
    with path.open("wb") as raw:
        writer = EncryptedFileWriter(raw, data_key_id=key.pk)
        for start in range(0, len(data), 50):
            writer.write(data[start : start + 50])
        writer.close()


def chunks_of(path, key) -> list[bytes]:
    return list(read_encrypted_file(path, data_key_id=key.pk))


def test_a_file_is_read_back_whole_and_never_stored_in_the_clear(tmp_path, small_chunks):
    key = create_data_key(purpose="export")
    data = SECRET * 20
    write(tmp_path / "file.bin", data, key)
    assert SECRET not in (tmp_path / "file.bin").read_bytes()
    chunks = chunks_of(tmp_path / "file.bin", key)
    assert len(chunks) > 5 and b"".join(chunks) == data


def test_an_empty_file_is_one_empty_chunk(tmp_path):
    key = create_data_key(purpose="export")
    write(tmp_path / "file.bin", b"", key)
    assert chunks_of(tmp_path / "file.bin", key) == [b""]


def _tokens(raw: bytes, header: bytes) -> list[bytes]:
    body, tokens = raw[len(header) :], []
    while body:
        (length,) = struct.unpack(">I", body[:4])
        tokens.append(body[: 4 + length])
        body = body[4 + length :]
    return tokens


@pytest.mark.parametrize("damage", ["cut short", "last chunk dropped", "chunks swapped"])
def test_a_damaged_file_is_refused(tmp_path, small_chunks, damage):
    key = create_data_key(purpose="export")
    path = tmp_path / "file.bin"
    write(path, SECRET * 20, key)
    header = f"hvc1:{key.pk}:".encode()
    raw = path.read_bytes()
    tokens = _tokens(raw, header)
    if damage == "cut short":
        path.write_bytes(raw[:-10])
    elif damage == "last chunk dropped":
        path.write_bytes(header + b"".join(tokens[:-1]))
    else:
        path.write_bytes(header + b"".join([tokens[1], tokens[0], *tokens[2:]]))
    with pytest.raises(ProtectedValueError):
        chunks_of(path, key)


def test_a_file_under_a_destroyed_key_is_unreadable(tmp_path):
    key = create_data_key(purpose="export")
    write(tmp_path / "file.bin", SECRET, key)
    destroy_data_key(key)
    with pytest.raises(ProtectedValueError):
        chunks_of(tmp_path / "file.bin", key)


def test_a_file_is_read_only_with_its_own_key(tmp_path):
    key, other = create_data_key(purpose="export"), create_data_key(purpose="export")
    write(tmp_path / "file.bin", SECRET, key)
    with pytest.raises(ProtectedValueError):
        chunks_of(tmp_path / "file.bin", other)
