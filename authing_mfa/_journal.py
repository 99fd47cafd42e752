"""The bulk import's journal, its failures file, and the compact tables that read them back.

The journal is append-only JSON Lines, one line per finished row, written with one ``write``
and flushed to the operating system at once, so a process killed with SIGKILL loses no line
it wrote (a power cut can lose the last few; see `_cli_import` for why that is safe). A line
cut short by a kill mid-write is skipped when read back, and the next run starts on a fresh
line. Lines::

    {"event": "start", "source": "/abs/users.csv", "time": "2024-05-01T10:00:00+00:00"}
    {"line": 2, "userId": "u1", "outcome": "imported"}
    {"line": 3, "userId": "u2", "outcome": "failed", "error": "ServerError", "code": 503,
     "message": "..."}
    {"line": 4, "userId": "", "outcome": "invalid", "error": "InvalidArgumentError",
     "message": "userId must not be empty"}
    {"event": "end", "imported": 1, "failed": 1, "invalid": 1, "skipped": 0}

No line holds a TOTP key or a recovery code: rows are named by line number and user id. The
failures file has the same row lines, for the failed and invalid rows of one run only.
"""

from __future__ import annotations

__all__ = ["IntMap", "Journal", "id_hash", "read_imported", "read_line_numbers"]

import hashlib
import json
import os
from array import array
from collections.abc import Generator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

IMPORTED = "imported"
FAILED = "failed"
INVALID = "invalid"


def id_hash(user_id: str) -> int:
    """Return a non-zero 63-bit hash of *user_id*, stable across runs and processes."""
    digest = hashlib.blake2b(user_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 1) or 1


class IntMap:
    """A map of non-zero ints to ints in two flat arrays: 16 bytes a slot, no object per entry.

    A million user ids with their line numbers take 24 MB here (values of type ``"i"``, 32-bit),
    against about 150 MB in a `dict`; that is what keeps a million-row import under 100 MB.

    Args:
        value_type: the `array` type code of the values: ``"q"`` (64-bit) or ``"i"``.
    """

    def __init__(self, value_type: str = "q") -> None:
        self._keys = array("q", bytes(8 * 1024))
        self._values = array(value_type, bytes(1024 * _size_of(value_type)))
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def _slot(self, key: int) -> int:
        mask = len(self._keys) - 1
        index = (key * 0x9E3779B97F4A7C15 >> 17) & mask
        keys = self._keys
        while keys[index] not in (0, key):
            index = (index + 1) & mask
        return index

    def get(self, key: int) -> int | None:
        """Return the value for *key*, or ``None``."""
        index = self._slot(key)
        return self._values[index] if self._keys[index] else None

    def put(self, key: int, value: int) -> None:
        """Set *key* to *value*."""
        index = self._slot(key)
        if not self._keys[index]:
            self._keys[index] = key
            self._size += 1
        self._values[index] = value
        if self._size * 2 > len(self._keys):
            self._grow()

    def setdefault(self, key: int, value: int) -> int | None:
        """Set *key* to *value* unless present; return the value already there, or ``None``."""
        index = self._slot(key)
        if self._keys[index]:
            return self._values[index]
        self.put(key, value)
        return None

    def _grow(self) -> None:
        keys, values = self._keys, self._values
        self._keys = array("q", bytes(16 * len(keys)))
        self._values = array(values.typecode, bytes(2 * values.itemsize * len(values)))
        for key, value in zip(keys, values, strict=True):
            if key:
                index = self._slot(key)
                self._keys[index] = key
                self._values[index] = value


def _size_of(type_code: str) -> int:
    return array(type_code).itemsize


def _json_lines(path: Path) -> Generator[dict[str, Any], None, None]:
    with path.open("rb") as file:
        for raw in file:
            try:
                entry = json.loads(raw)
            except ValueError:
                continue  # a line cut short by a kill mid-write
            if isinstance(entry, dict):
                yield entry


def read_imported(path: Path) -> IntMap:
    """Return ``line -> id_hash(userId)`` for every row the journal at *path* shows imported.

    A row that failed in one run and was imported in a later one counts as imported.
    """
    imported = IntMap()
    if not path.exists():
        return imported
    for entry in _json_lines(path):
        line, user_id = entry.get("line"), entry.get("userId")
        if entry.get("outcome") == IMPORTED and type(line) is int and isinstance(user_id, str):
            imported.put(line, id_hash(user_id))
    return imported


def read_line_numbers(path: Path) -> IntMap:
    """Return the line numbers a failures (or journal) file names, as keys mapped to 1."""
    lines = IntMap()
    for entry in _json_lines(path):
        line = entry.get("line")
        if type(line) is int and line > 0:
            lines.put(line, 1)
    return lines


def has_rows(path: Path) -> bool:
    """Whether the journal at *path* exists and records at least one row."""
    if not path.exists():
        return False
    entries = _json_lines(path)
    try:
        return any("line" in entry for entry in entries)
    finally:
        entries.close()


class Journal:
    """An append-only JSON Lines file, each line written whole and flushed at once.

    Belongs to one thread: the bulk import writes it from its event loop only.
    """

    def __init__(self, path: Path, *, truncate: bool = False) -> None:
        self.path = path
        self._file: IO[str] = path.open("w" if truncate else "a", encoding="utf-8")
        if not truncate and self._file.tell() > 0 and not _ends_with_newline(path):
            # The previous run was killed mid-line: start ours on a line of its own.
            self._file.write("\n")

    def write(self, entry: dict[str, Any]) -> None:
        """Append *entry* as one line and flush it to the operating system."""
        self._file.write(json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")) + "\n")
        self._file.flush()

    def start(self, source: Path) -> None:
        """Record the start of a run over *source*."""
        self.write(
            {
                "event": "start",
                "source": str(source.resolve()),
                "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "pid": os.getpid(),
            }
        )

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as file:
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b"\n"
