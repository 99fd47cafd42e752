"""A bulk command's journal and its failures file: writing them, and reading them back.

The journal is append-only JSON Lines, one line per finished row, written with one ``write``
and flushed to the operating system at once, so a process killed with SIGKILL loses no line
it wrote (a power cut can lose the last few; see `_file_run` for why that is safe). A line
cut short by a kill mid-write is skipped when read back, and the next run starts on a fresh
line. Lines, for ``import-totp`` (``unbind`` journals ``unbound`` rows, and its start line
says ``"command": "unbind", "type": "OTP"``)::

    {"event": "start", "command": "import-totp", "source": "/abs/users.csv",
     "time": "2024-05-01T10:00:00+00:00", "pid": 4242}
    {"line": 2, "userId": "u1", "outcome": "imported"}
    {"line": 3, "userId": "u2", "outcome": "failed", "error": "ServerError", "code": 503,
     "message": "..."}
    {"line": 4, "userId": "", "outcome": "invalid", "error": "InvalidArgumentError",
     "message": "userId must not be empty"}
    {"event": "end", "imported": 1, "failed": 1, "invalid": 1, "skipped": 0}

A run stopped by an error no row can escape (the pool's credentials refused) ends with
``{"event": "stopped", "error": "AuthenticationError", ...}`` instead of ``end``. A journal is
resumed only by the command that wrote it (a start line without ``command`` is an
``import-totp`` one's, written before commands were named).

No line holds a TOTP key or a recovery code: rows are named by line number and user id. The
failures file has the same row lines, for the failed and invalid rows of one run only. What is
read back goes into the compact tables of `_intmap`. Every error reading or writing either
file is a `UsageError` naming its path.
"""

from __future__ import annotations

__all__ = [
    "FAILED",
    "IMPORTED",
    "INVALID",
    "UNBOUND",
    "Journal",
    "has_rows",
    "read_done",
    "read_line_numbers",
]

import json
import os
from collections.abc import Generator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, TypeGuard

from ._exit import UsageError
from ._intmap import IntMap, id_hash
from ._lines import physical_lines

IMPORTED = "imported"
UNBOUND = "unbound"
FAILED = "failed"
INVALID = "invalid"
_LINE_BREAKS_ESCAPED = {ord(c): f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"}
_MAX_LINE_NUMBER = 2**62
# Our own lines are short; a longer one is not ours, and is not held in memory whole.
_MAX_LINE = 1 << 20


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _entries(
    path: Path,
) -> Generator[tuple[int, dict[str, Any] | None, bytes | None], None, None]:
    """Yield ``(line number, the line's JSON object or None, the raw line)`` for non-blank lines."""
    try:
        file = path.open("rb")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {_reason(exc)}") from None
    with file:
        try:
            for number, raw in enumerate(physical_lines(file.read, _MAX_LINE), 1):
                if raw is not None and not raw.strip():
                    continue
                try:
                    entry = json.loads(raw) if raw is not None else None
                except (ValueError, RecursionError):
                    entry = None
                yield number, entry if isinstance(entry, dict) else None, raw
        except OSError as exc:
            raise UsageError(f"{path}: cannot read: {_reason(exc)}") from None


def read_done(path: Path, done: str, run: Mapping[str, str]) -> IntMap:
    """Return ``line -> id_hash(userId)`` for every row the journal at *path* shows *done*.

    A row that failed in one run and was done in a later one counts as done. Lines that are
    not journal lines (one cut short by a kill) are skipped.

    Args:
        path: the journal.
        done: the outcome of a row done: ``imported``, ``unbound``.
        run: what the start lines of this journal must say: ``{"command": "unbind", "type":
            "OTP"}``; a start line without ``command`` is an ``import-totp`` one's.

    Raises:
        UsageError: *path* cannot be read, or another command (or factor) wrote it.
    """
    rows = IntMap()
    if not path.exists():
        return rows
    for _, entry, _ in _entries(path):
        if entry is None:
            continue
        if entry.get("event") == "start":
            _check_run(path, entry, run)
            continue
        line, user_id = entry.get("line"), entry.get("userId")
        if entry.get("outcome") == done and _line_number(line) and isinstance(user_id, str):
            rows.put(line, id_hash(user_id))
    return rows


def _check_run(path: Path, start: Mapping[str, object], run: Mapping[str, str]) -> None:
    wrote = {"command": "import-totp", **{key: start.get(key) for key in run if key in start}}
    if all(wrote.get(key) == value for key, value in run.items()):
        return
    theirs = " ".join(f"--{k} {v}" if k != "command" else str(v) for k, v in wrote.items())
    ours = " ".join(f"--{k} {v}" if k != "command" else v for k, v in run.items())
    raise UsageError(
        f"{path} is the journal of another run ({theirs}), not of {ours}: pass --journal to "
        "start a new one"
    )


def read_line_numbers(path: Path) -> IntMap:
    """Return the line numbers a failures (or journal) file lists, as keys mapped to 1.

    Raises:
        UsageError: *path* cannot be read, or one of its lines is neither a row line (a JSON
            object with a positive ``line``) nor an event line; only a last line that starts
            like one and was cut short by a kill is let pass.
    """
    lines = IntMap()
    cut_short: int | None = None
    for number, entry, raw in _entries(path):
        if cut_short is not None:
            _refuse_line(path, cut_short)  # a damaged line that is not the last
        line = None if entry is None else entry.get("line")
        if entry is not None and _line_number(line):
            lines.put(line, 1)
        elif entry is not None and "event" in entry and "line" not in entry:
            continue
        elif entry is None and raw is not None and raw.lstrip().startswith(b"{"):
            cut_short = number
        else:
            _refuse_line(path, number)
    return lines


def _line_number(value: object) -> TypeGuard[int]:
    """Whether *value* can be a line number of an input file (and a key of an `IntMap`)."""
    return type(value) is int and 0 < value < _MAX_LINE_NUMBER


def _refuse_line(path: Path, number: int) -> None:
    raise UsageError(
        f"{path}: line {number} is not a line of a failures file (a JSON object with the "
        "row's line number): --only takes the failures file a run wrote"
    )


def has_rows(path: Path) -> bool:
    """Whether the journal at *path* exists and records at least one row."""
    if not path.exists():
        return False
    entries = _entries(path)
    try:
        return any(entry is not None and "line" in entry for _, entry, _ in entries)
    finally:
        entries.close()


class Journal:
    """An append-only JSON Lines file, each line written whole and flushed at once.

    Belongs to one thread: the bulk import writes it from its event loop only.

    Raises:
        UsageError: the file cannot be opened (or, from `write`, written).
    """

    def __init__(self, path: Path, *, truncate: bool = False) -> None:
        self.path = path
        try:
            self._file: IO[str] = path.open("w" if truncate else "a", encoding="utf-8")
            if not truncate and self._file.tell() > 0 and not _ends_with_newline(path):
                # The previous run was killed mid-line: start ours on a line of its own.
                self._file.write("\n")
        except OSError as exc:
            raise UsageError(f"{path}: cannot write: {_reason(exc)}") from None

    def write(self, entry: dict[str, Any]) -> None:
        """Append *entry* as one line and flush it to the operating system."""
        text = json.dumps(entry, ensure_ascii=False, separators=(", ", ": "))
        # JSON leaves these raw, but str.splitlines() and many editors break lines at them.
        text = text.translate(_LINE_BREAKS_ESCAPED)
        try:
            try:
                self._file.write(text + "\n")
            except UnicodeEncodeError:
                # A user id from JSON Lines may hold a lone surrogate, which UTF-8 cannot
                # encode; the ASCII form escapes it, and reads back as the same string.
                self._file.write(json.dumps(entry, separators=(", ", ": ")) + "\n")
            self._file.flush()
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot write: {_reason(exc)}") from None

    def start(self, source: Path | None, run: Mapping[str, str]) -> None:
        """Record the start of a run over *source* (``None``: standard input).

        *run* names the command and what its rows depend on (``{"command": "unbind", "type":
        "OTP"}``), which `read_done` checks when the journal is resumed.
        """
        self.write(
            {
                "event": "start",
                **run,
                "source": "-" if source is None else str(source.resolve()),
                "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "pid": os.getpid(),
            }
        )

    def close(self) -> None:
        """Close the file."""
        try:
            self._file.close()
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot write: {_reason(exc)}") from None


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as file:
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b"\n"
