"""Reading a backup back: every frame authenticated, in order, and nothing missing."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.fernet import Fernet, InvalidToken

from operations.backups.common import (
    DATA,
    DATABASE,
    DUMP_PART,
    FINAL,
    FORMAT_VERSION,
    FRAME_PREFIX_LENGTH,
    HEADER,
    ID_LENGTH,
    KEYRING,
    KEYRING_PART,
    MAGIC,
    MAX_FRAME_LENGTH,
    PART_END,
    PART_START,
    BackupError,
    BackupSummary,
    PartSummary,
    backup_keys,
)


@dataclass
class PartStart:
    name: str


class _Reader:
    """Reads a backup frame by frame, authenticating each, and raises BackupError on any
    damage, truncation, reordering or splicing."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.keys = backup_keys()
        self.fernet: Fernet | None = None
        self.backup_id: bytes | None = None
        self.header: dict[str, Any] = {}
        self.parts: list[PartSummary] = []
        self.whole = hashlib.sha256()
        self.file_hash = hashlib.sha256()
        self.file_size = 0
        self.final: dict[str, Any] = {}

    def _damaged(self, why: str) -> BackupError:
        return BackupError(f"{self.path.name} is damaged or was altered: {why}. Nothing was used.")

    def _read_exactly(self, stream: IO[bytes], count: int) -> bytes:
        data = stream.read(count)
        self.file_hash.update(data)
        self.file_size += len(data)
        return data

    def _open(self, token: bytes, index: int) -> bytes:
        encoded = base64.urlsafe_b64encode(token)
        if self.fernet is None:
            for key in self.keys:
                try:
                    plaintext = key.decrypt(encoded)
                except InvalidToken:
                    continue
                self.fernet = key
                return plaintext
            raise BackupError(
                f"No key in HAVEN_BACKUP_KEYS opens {self.path.name}: it was written with "
                "another key, or it is damaged. Nothing was used."
            )
        try:
            return self.fernet.decrypt(encoded)
        except InvalidToken:
            raise self._damaged(f"frame {index} fails its authentication check") from None

    def frames(self) -> Iterator[tuple[bytes, bytes]]:
        try:
            stream = self.path.open("rb")
        except OSError as error:
            raise BackupError(f"Cannot open {self.path}: {error.strerror}.") from error
        with stream:
            if self._read_exactly(stream, len(MAGIC)) != MAGIC:
                raise BackupError(f"{self.path.name} is not a Haven backup file.")
            index = 0
            while True:
                length_bytes = self._read_exactly(stream, 4)
                if not length_bytes:
                    raise self._damaged("it ends before its final frame (truncated)")
                if len(length_bytes) < 4:
                    raise self._damaged("it ends in the middle of a frame (truncated)")
                length = int.from_bytes(length_bytes, "big")
                if not 0 < length <= MAX_FRAME_LENGTH:
                    raise self._damaged(f"frame {index} has an impossible length")
                token = self._read_exactly(stream, length)
                if len(token) < length:
                    raise self._damaged("it ends in the middle of a frame (truncated)")
                plaintext = self._open(token, index)
                if len(plaintext) < FRAME_PREFIX_LENGTH:
                    raise self._damaged(f"frame {index} is malformed")
                backup_id = plaintext[:ID_LENGTH]
                frame_index = int.from_bytes(plaintext[ID_LENGTH : ID_LENGTH + 8], "big")
                frame_type = plaintext[ID_LENGTH + 8 : FRAME_PREFIX_LENGTH]
                if self.backup_id is None:
                    self.backup_id = backup_id
                elif backup_id != self.backup_id:
                    raise self._damaged(f"frame {index} belongs to another backup")
                if frame_index != index:
                    raise self._damaged(
                        f"frames are missing or out of order (frame {index} is numbered "
                        f"{frame_index})"
                    )
                if frame_type != FINAL:
                    self.whole.update(plaintext)
                yield frame_type, plaintext[FRAME_PREFIX_LENGTH:]
                index += 1
                if frame_type == FINAL:
                    if self._read_exactly(stream, 1):
                        raise self._damaged("there is data after its final frame")
                    return

    def events(self) -> Iterator[PartStart | bytes | PartSummary]:
        """PartStart, the part's data chunks, then its PartSummary, part after part; the
        header is in self.header once the first event is out. Exhaust it: the last checks
        happen at the end."""
        current: PartStart | None = None
        digest, size = hashlib.sha256(), 0
        expect_header = True
        for frame_type, payload in self.frames():
            if expect_header:
                if frame_type != HEADER:
                    raise self._damaged("it does not start with a header")
                self.header = self._json(payload)
                if self.header.get("format") != FORMAT_VERSION:
                    raise BackupError(
                        f"{self.path.name} has format {self.header.get('format')}, which this "
                        "version of Haven cannot read."
                    )
                expect_header = False
            elif frame_type == PART_START and current is None:
                current = PartStart(name=str(self._json(payload).get("name", "")))
                digest, size = hashlib.sha256(), 0
                yield current
            elif frame_type == DATA and current is not None:
                digest.update(payload)
                size += len(payload)
                yield payload
            elif frame_type == PART_END and current is not None:
                recorded = self._json(payload)
                summary = PartSummary(name=current.name, size=size, sha256=digest.hexdigest())
                if recorded != summary.__dict__:
                    raise self._damaged(f"the part {current.name} fails its SHA-256 check")
                self.parts.append(summary)
                current = None
                yield summary
            elif frame_type == FINAL and current is None:
                self.final = self._json(payload)
                if self.final.get("sha256") != self.whole.hexdigest():
                    raise self._damaged("its content fails the SHA-256 check of the whole")
                if self.final.get("parts") != len(self.parts):
                    raise self._damaged("parts are missing")
            else:
                raise self._damaged("its frames are not in the expected order")
        if not self.final:
            raise self._damaged("it ends before its final frame (truncated)")

    def _json(self, payload: bytes) -> dict[str, Any]:
        try:
            content = json.loads(payload)
        except ValueError:
            raise self._damaged("a control frame is malformed") from None
        if not isinstance(content, dict):
            raise self._damaged("a control frame is malformed")
        return content

    def read_header(self) -> dict[str, Any]:
        """Only the (authenticated) header, for choosing a keyring."""
        for frame_type, payload in self.frames():
            if frame_type != HEADER:
                raise self._damaged("it does not start with a header")
            return self._json(payload)
        raise self._damaged("it has no header")

    def summary(self) -> BackupSummary:
        return BackupSummary(
            path=self.path,
            kind=str(self.header.get("kind")),
            created_at=_parse_time(self.header.get("created_at")),
            backup_id=(self.backup_id or b"").hex(),
            header=self.header,
            parts=self.parts,
            whole_sha256=self.whole.hexdigest(),
            file_size=self.file_size,
            file_sha256=self.file_hash.hexdigest(),
            finished_at=(
                _parse_time(self.final["finished_at"]) if "finished_at" in self.final else None
            ),
        )


def _parse_time(value: Any) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)


def verify_backup(path: Path) -> BackupSummary:
    """Check a backup completely (every frame, every part's SHA-256, the whole) and restore
    nothing. Raises BackupError with the reason when it is not intact."""
    reader = _Reader(Path(path))
    for _event in reader.events():
        pass
    summary = reader.summary()
    if summary.kind not in (DATABASE, KEYRING):
        raise BackupError(f"{reader.path.name} is neither a database backup nor a keyring.")
    expected_parts = {DATABASE: DUMP_PART, KEYRING: KEYRING_PART}[summary.kind]
    if not summary.parts or summary.parts[0].name != expected_parts:
        raise BackupError(f"{reader.path.name} lacks its {expected_parts} part.")
    return summary
