"""Reading a bulk command's input, CSV, JSON Lines or one value a line, one line at a time.

What a row holds is the command's `Columns`: for ``import-totp``, `TOTP_COLUMNS`, the CSV
header ``userId,secret,recoveryCode`` (``recoveryCode`` optional, the order free, other columns
ignored; an empty ``recoveryCode`` cell means none); for ``status`` and ``unbind``,
`ID_COLUMNS`, a ``userId`` column alone. JSON Lines has one object a line with those keys. A
file of user ids may also be plain text, one id a line (the ``lines`` format), taken as it is:
the line is the id. The input is a file, or standard input (``--from -``); it is read once, as
a stream, and never whole.

The format is ``--format``, else the extension's (``.csv``; ``.jsonl``, ``.ndjson`` or
``.json``), else the first bytes': JSON Lines if they open an object; for a file of ids, CSV if
its first line names a ``userId`` column, else one id a line; CSV otherwise.

Every physical line is one row, reported by its line number (the header is line 1), and a line
that cannot be a row is an invalid row with the reason, never a crash; the lines before and
after it are read as usual, but for those inside a quote left open. What each kind of damage
becomes:

- a line that is empty or holds only spaces and tabs (for CSV, and commas): skipped;
- a line that is not UTF-8 text (a Latin-1 or Windows-1252 file, a stray byte): an invalid
  row, "is not UTF-8 text";
- a line longer than `MAX_LINE_BYTES` (64 KiB): an invalid row, read in bounded memory;
- a CSV line with a quoted field that does not close on that line: an invalid row, and so is
  every line up to the one where that quote closes (to the end of the file if it never does),
  each "inside the quoted field opened on line N". No userId, secret or recoveryCode holds a
  line break, so a field spanning lines is damage; and its continuation lines are never read
  as rows, since what looks like a user id there may be the rest of a key. A line too long to
  read, inside such a field, is taken to leave it open;
- a CSV line with text after a closing quote, or another number of fields than the header:
  an invalid row;
- a JSON Lines line that is not JSON, or not an object, or whose fields are not strings: an
  invalid row;
- a value longer than its column allows (`Columns.limits`: a userId longer than
  `MAX_USER_ID`, a secret longer than `MAX_SECRET`, a recoveryCode longer than
  `MAX_RECOVERY_CODE` characters): an invalid row.

What stops the run before any row is read, with exit code 2 and the path: a file that starts
with a UTF-16 or UTF-32 byte-order mark or holds NUL bytes in its first lines (save it as
UTF-8), a CSV file without a header line, and a CSV header that is not UTF-8, not CSV, or
lacks a required column (``userId``, and for keys ``secret``). A UTF-8 byte-order mark is
allowed and skipped.

No message about a row quotes the row, which holds a key.
"""

from __future__ import annotations

__all__ = [
    "ID_COLUMNS",
    "MAX_LINE_BYTES",
    "MAX_RECOVERY_CODE",
    "MAX_SECRET",
    "MAX_USER_ID",
    "TOTP_COLUMNS",
    "Columns",
    "FileFormatError",
    "Format",
    "Row",
    "RowSource",
]

import csv
import json
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, Literal

import attrs

from authing_mfa._validation import MAX_RECOVERY_CODE_LENGTH, MAX_SECRET_LENGTH, MAX_USER_ID_LENGTH

from ._lines import CHUNK, count_lines, physical_lines

Format = Literal["csv", "jsonl", "lines"]
MAX_LINE_BYTES = 64 * 1024
# The library's limits, checked here first so that an over-long id is not journaled whole.
MAX_USER_ID = MAX_USER_ID_LENGTH
MAX_SECRET = MAX_SECRET_LENGTH
MAX_RECOVERY_CODE = MAX_RECOVERY_CODE_LENGTH


@attrs.frozen
class Columns:
    """The fields a command's rows hold: their names in the file and their longest values.

    A row's values come in the order of `names`: the required columns, ``userId`` first, then
    the optional ones (``None`` when absent, or an empty CSV cell).
    """

    required: tuple[str, ...]
    optional: tuple[str, ...]
    limits: Mapping[str, int]
    """The most characters a value may hold, by column; longer is an invalid row."""

    @property
    def names(self) -> tuple[str, ...]:
        """Every column, required first."""
        return self.required + self.optional

    @property
    def one_value(self) -> bool:
        """Whether a row is one value alone, so that a file may hold one a line."""
        return len(self.names) == 1


TOTP_COLUMNS = Columns(
    ("userId", "secret"),
    ("recoveryCode",),
    {"userId": MAX_USER_ID, "secret": MAX_SECRET, "recoveryCode": MAX_RECOVERY_CODE},
)
"""``import-totp --from``: a user id, a key and an optional recovery code."""
ID_COLUMNS = Columns(("userId",), (), {"userId": MAX_USER_ID})
"""``status --from`` and ``unbind --from``: a user id."""
_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
_BLANK = frozenset(" \t")
_BLANK_CSV = frozenset(" \t,")


class FileFormatError(Exception):
    """The input cannot be read as rows at all: exit code 2; the message names the path."""


@attrs.frozen
class Row:
    """One row of the input: its line number, and its values or why there are none.

    *values* are the `Columns`' values in order, not checked beyond their length; with a
    *problem*, they are kept only when their user id may name the row in reports.
    """

    line: int
    values: tuple[object, ...] | None
    problem: str | None = None

    @property
    def user_id(self) -> str | None:
        """The row's user id, if it has one that may name it."""
        user_id = None if self.values is None else self.values[0]
        return user_id if isinstance(user_id, str) else None


class RowSource:
    """An input opened for reading rows: a file, a pipe, or standard input.

    Args:
        name: how messages name it: the path as given, or ``standard input``.
        stream: the bytes, read once from the start.
        file_format: ``"csv"``, ``"jsonl"`` or ``"lines"``; ``None`` to tell by the first
            bytes.
        path: the path of a regular file, which can be read a second time to count its
            lines for the progress bar; ``None`` for pipes and standard input.
        columns: what a row holds.

    Raises:
        FileFormatError: the input is UTF-16, UTF-32 or binary, or cannot be read, or it is
            read one value a line for columns that are not one value.
    """

    def __init__(
        self,
        name: str,
        stream: BinaryIO,
        file_format: Format | None,
        path: Path | None,
        columns: Columns = TOTP_COLUMNS,
    ) -> None:
        self.name = name
        self.path = path
        self.columns = columns
        self._stream = stream
        try:
            start = stream.read(CHUNK)
        except OSError as exc:
            raise FileFormatError(f"{name}: cannot read: {_reason(exc)}") from None
        for bom, encoding in _WIDE_BOMS.items():
            if start.startswith(bom):
                raise FileFormatError(
                    f"{name} is {encoding} text (it starts with a {encoding} byte-order mark): "
                    "save it as UTF-8"
                )
        if b"\x00" in start[:4096]:
            raise FileFormatError(
                f"{name} holds NUL bytes in its first lines: it is not UTF-8 text (UTF-16 "
                "without a byte-order mark, or not text at all); save it as UTF-8"
            )
        start = start.removeprefix(_UTF8_BOM)
        self.format: Format = file_format or _sniffed(start, columns)
        if self.format == "lines" and not columns.one_value:
            raise FileFormatError(
                f"{name}: one value a line holds no {', '.join(columns.names[1:])}: "
                "give a CSV or JSON Lines file"
            )
        self._lines = physical_lines(self._read, MAX_LINE_BYTES, start)
        self.line = 0
        """The number of the last line read."""

    @classmethod
    def open(
        cls,
        source: Path | None,
        file_format: Format | None,
        stdin: BinaryIO | None,
        columns: Columns = TOTP_COLUMNS,
    ) -> RowSource:
        """Open *source* (``None``: *stdin*); its format is *file_format*, else its extension's.

        Raises:
            FileFormatError: there is no such file, it is a directory, or it cannot be read.
        """
        if source is None:
            assert stdin is not None  # noqa: S101 - the caller's to give
            return cls("standard input", stdin, file_format, None, columns)
        name = str(source)
        try:
            mode = source.stat().st_mode
        except FileNotFoundError:
            raise FileFormatError(f"{name}: no such file") from None
        except OSError as exc:
            raise FileFormatError(f"{name}: cannot read: {_reason(exc)}") from None
        if stat.S_ISDIR(mode):
            raise FileFormatError(f"{name}: is a directory, not a file of rows")
        if file_format is None:
            suffix = source.suffix.lower()
            file_format = (
                "csv" if suffix == ".csv" else "jsonl" if suffix in _JSON_SUFFIXES else None
            )
        try:
            stream = source.open("rb")
        except OSError as exc:
            raise FileFormatError(f"{name}: cannot open: {_reason(exc)}") from None
        try:
            path = source if stat.S_ISREG(mode) else None
            return cls(name, stream, file_format, path, columns)
        except BaseException:
            stream.close()
            raise

    def close(self) -> None:
        """Close the stream (standard input too: the rows have been read)."""
        self._stream.close()

    def count_rows(self) -> int | None:
        """Return how many rows the input holds, blank lines included, or ``None`` for a stream.

        It reads a regular file a second time, counting line endings only; a pipe is read once.
        """
        if self.path is None:
            return None
        try:
            with self.path.open("rb") as file:
                lines = count_lines(file.read)
        except OSError:
            return None  # only the progress bar needed it
        return max(lines - 1, 0) if self.format == "csv" else lines

    def count_rest(self) -> int | None:
        """Return how many non-blank lines are left unread, for a regular file; else ``None``."""
        if self.path is None:
            return None
        rest = 0
        blank = _BLANK_CSV if self.format == "csv" else _BLANK
        try:
            for raw in self._lines:
                rest += raw is None or not _is_blank(raw, blank)
        except FileFormatError:
            return None
        return rest

    def rows(self) -> Iterator[Row]:
        """Return the rows, read lazily, each with its line number, checked for shape only.

        A CSV file's header is read at once, so a file without a usable one fails here.

        Raises:
            FileFormatError: a CSV file without a usable header; and, while iterating, an
                error reading the input.
        """
        if self.format == "jsonl":
            return self._jsonl_rows()
        if self.format == "lines":
            return self._plain_rows()
        lines = self._numbered()
        return self._csv_rows(lines, self._header(lines))

    def _read(self, size: int) -> bytes:
        try:
            return self._stream.read(size)
        except OSError as exc:
            raise FileFormatError(
                f"{self.name}: cannot read after line {self.line}: {_reason(exc)}"
            ) from None

    def _numbered(self) -> Iterator[tuple[int, bytes | None]]:
        for raw in self._lines:
            self.line += 1
            yield self.line, raw

    def _csv_rows(
        self, lines: Iterator[tuple[int, bytes | None]], names: list[str]
    ) -> Iterator[Row]:
        required = [names.index(name) for name in self.columns.required]
        optional = [names.index(name) if name in names else None for name in self.columns.optional]
        opened = 0  # the line whose quoted field is still open, if any
        for line, raw in lines:
            text, problem = _decoded(raw)
            if text is not None and _BLANK_CSV.issuperset(text):
                continue
            if opened:
                # A continuation of a quoted field: never a row, whatever it looks like, for
                # it may well be the rest of a key.
                yield Row(line, None, f"is inside the quoted field opened on line {opened}")
                if raw is not None and not _open_quote('"' + _scannable(raw, text)):
                    opened = 0
                continue
            if text is None:
                if raw is not None and _open_quote(_scannable(raw, text)):
                    opened = line
                yield Row(line, None, problem)
                continue
            cells, problem = _csv_cells(text)
            if cells is None:
                if _open_quote(text):
                    opened = line
                yield Row(line, None, problem)
                continue
            if len(cells) != len(names):
                yield Row(line, None, f"has {len(cells)} fields, the header {len(names)}")
                continue
            values: list[object] = [cells[index] for index in required]
            values += [cells[index] or None if index is not None else None for index in optional]
            yield self._row(line, values)

    def _header(self, lines: Iterator[tuple[int, bytes | None]]) -> list[str]:
        for line, raw in lines:
            text, problem = _decoded(raw)
            if text is None:
                raise FileFormatError(f"{self.name}: line {line}, the CSV header, {problem}")
            if _BLANK_CSV.issuperset(text):
                continue
            cells, problem = _csv_cells(text)
            if cells is None:
                raise FileFormatError(f"{self.name}: line {line}, the CSV header, {problem}")
            names = [name.strip() for name in cells]
            missing = [name for name in self.columns.required if name not in names]
            if missing:
                # The header's own cells are not quoted: without one, line 1 is a row, with a key.
                raise FileFormatError(
                    f"{self.name}: the CSV header (line {line}) must name {self._wanted()}; "
                    f"missing: {', '.join(missing)}{self._lines_hint()}"
                )
            return names
        raise FileFormatError(
            f"{self.name}: no CSV header: the first line must name {self._wanted()}"
            f"{self._lines_hint()}"
        )

    def _wanted(self) -> str:
        required = self.columns.required
        text = (
            f"the column {required[0]}"
            if len(required) == 1
            else f"the columns {', '.join(required[:-1])} and {required[-1]}"
        )
        if self.columns.optional:
            text += f" (and optionally {', '.join(self.columns.optional)})"
        return text

    def _lines_hint(self) -> str:
        if not self.columns.one_value:
            return ""
        return " (for one user id a line, without a header, pass --format lines)"

    def _jsonl_rows(self) -> Iterator[Row]:
        for line, raw in self._numbered():
            text, problem = _decoded(raw)
            if text is None:
                yield Row(line, None, problem)
                continue
            if _BLANK.issuperset(text):
                continue
            try:
                entry = json.loads(text)
            except (ValueError, RecursionError):
                yield Row(line, None, "is not valid JSON")
                continue
            if not isinstance(entry, dict):
                yield Row(line, None, "is not a JSON object")
                continue
            values = [entry.get(name, "") for name in self.columns.required]
            values += [entry.get(name) for name in self.columns.optional]
            yield self._row(line, values)

    def _plain_rows(self) -> Iterator[Row]:
        for line, raw in self._numbered():
            text, problem = _decoded(raw)
            if text is None:
                yield Row(line, None, problem)
            elif not _BLANK.issuperset(text):
                yield self._row(line, [text])

    def _row(self, line: int, values: list[object]) -> Row:
        """Return the row of *values*, or an invalid one if a value is longer than allowed.

        An over-long user id is not kept, so that no report holds it whole.
        """
        for name, value in zip(self.columns.names, values, strict=True):
            limit = self.columns.limits[name]
            if isinstance(value, str) and len(value) > limit:
                kept = None if name == "userId" else tuple(values)
                return Row(line, kept, f"{name} is longer than {limit} characters")
        return Row(line, tuple(values))


_JSON_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})


def _sniffed(start: bytes, columns: Columns) -> Format:
    """Return the format the first bytes of an input show (see the module's docstring)."""
    if start.lstrip(b" \t\r\n").startswith(b"{"):
        return "jsonl"
    if not columns.one_value:
        return "csv"
    for raw in start.splitlines():
        text, _ = _decoded(raw)
        if text is None or not _BLANK_CSV.issuperset(text):
            cells, _ = _csv_cells(text) if text is not None else (None, None)
            named = cells is not None and columns.required[0] in {c.strip() for c in cells}
            return "csv" if named else "lines"
    return "lines"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _decoded(raw: bytes | None) -> tuple[str | None, str | None]:
    if raw is None:
        return None, f"is longer than {MAX_LINE_BYTES} bytes"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"is not UTF-8 text (byte {exc.start + 1} of the line)"


def _is_blank(raw: bytes, blank: frozenset[str]) -> bool:
    try:
        return blank.issuperset(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def _csv_cells(text: str) -> tuple[list[str] | None, str | None]:
    if '"' not in text:
        return text.split(","), None  # what the csv module makes of a line without quotes
    try:
        return next(csv.reader([text], strict=True)), None
    except csv.Error:
        pass
    if _open_quote(text):
        return (
            None,
            "opens a quoted field that does not close on this line (a field cannot span lines)",
        )
    return None, "is not valid CSV (a quoted field must end at a comma or the line's end)"


def _open_quote(text: str) -> bool:
    """Whether *text*, read as CSV, ends inside a quoted field."""
    if '"' not in text:
        return False
    try:
        next(csv.reader([text], strict=True))
    except csv.Error:
        pass
    else:
        return False
    try:
        next(csv.reader([text + '"'], strict=True))
    except csv.Error:
        return False  # damaged, but not by a quote left open
    return True


def _scannable(raw: bytes, text: str | None) -> str:
    # Quotes are ASCII: a line that is not UTF-8 still shows where its quotes are.
    return text if text is not None else raw.decode("utf-8", "replace")
