"""The bulk import's journal and its failures file: writing them, and reading them back.

The journal is append-only JSON Lines, one line per finished row, written with one ``write``
and flushed to the operating system at once, so a process killed with SIGKILL loses no line
it wrote (a power cut can lose the last few; see `_import_file` for why that is safe). A line
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
failures file has the same row lines, for the failed and invalid rows of one run only. What is
read back goes into the compact tables of `_intmap`.
"""

from __future__ import annotations

__all__ = [
    "FAILED",
    "IMPORTED",
    "INVALID",
    "Journal",
    "has_rows",
    "read_imported",
    "read_line_numbers",
]

import json
import os
from collections.abc import Generator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from ._intmap import IntMap, id_hash

IMPORTED = "imported"
FAILED = "failed"
INVALID = "invalid"


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
