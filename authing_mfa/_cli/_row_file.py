"""Reading a bulk import's input file, CSV or JSON Lines, one row at a time, by line number.

CSV has the header ``userId,secret,recoveryCode`` (``recoveryCode`` optional, the order free,
other columns ignored; an empty ``recoveryCode`` cell means none). JSON Lines has one object a
line with those keys. Blank lines are skipped in both. The file is never read whole, and no
message about a row quotes the row, which holds a key.
"""

from __future__ import annotations

__all__ = ["Row", "count_rows", "detect_format", "read_rows"]

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import attrs

from authing_mfa._bulk_rows import TotpRecord

Format = Literal["csv", "jsonl"]
COLUMNS = ("userId", "secret", "recoveryCode")


class FileFormatError(Exception):
    """The input file cannot be read as rows at all (no header, a missing column)."""


@attrs.frozen
class Row:
    """One row of the input: its line number, and the record or why there is none."""

    line: int
    record: TotpRecord | None
    problem: str | None = None


def detect_format(path: Path) -> Format:
    """Return the format *path*'s extension names, else the one its first byte suggests."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    with path.open("rb") as file:
        start = file.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "jsonl" if start.startswith(b"{") else "csv"


def count_rows(path: Path, file_format: Format) -> int:
    """Return how many rows *path* holds (for progress; cheap, without parsing them)."""
    lines = 0
    last = b"\n"
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0) if file_format == "csv" else lines


def read_rows(path: Path, file_format: Format) -> Iterator[Row]:
    """Yield the rows of *path*, lazily.

    Raises:
        FileFormatError: a CSV file without the ``userId`` and ``secret`` columns.
        OSError: the file cannot be read.
    """
    if file_format == "csv":
        return _csv_rows(path)
    return _jsonl_rows(path)


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None:
            return
        names = [name.strip() for name in header]
        missing = [name for name in COLUMNS[:2] if name not in names]
        if missing:
            raise FileFormatError(
                f"{path}: the CSV header must name the columns userId and secret "
                f"(and optionally recoveryCode); missing: {', '.join(missing)}"
            )
        user_id, secret = names.index("userId"), names.index("secret")
        recovery = names.index("recoveryCode") if "recoveryCode" in names else None
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                problem = f"has {len(cells)} fields, the header {len(names)}"
                yield Row(reader.line_num, None, problem)
                continue
            code = cells[recovery] if recovery is not None else ""
            record = TotpRecord(cells[user_id], cells[secret], code or None)
            yield Row(reader.line_num, record)


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with path.open("rb") as file:
        for line, raw in enumerate(file, 1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
            except ValueError:
                yield Row(line, None, "is not valid JSON")
                continue
            if not isinstance(entry, dict):
                yield Row(line, None, "is not a JSON object")
                continue
            record = TotpRecord(
                entry.get("userId", ""), entry.get("secret", ""), entry.get("recoveryCode")
            )
            yield Row(line, record)
