"""The report of ``status --from``: one row per user, CSV or JSON Lines, written as it goes.

Rows come in the order the calls finish, not the file's, so that a million users stream
through in flat memory. A CSV report's header is written before the first row, so its columns
are fixed in advance:

- ``userId``;
- one column per factor `MfaType` knows (``OTP``, ``FACE``, ``SMS``, ``EMAIL``,
  ``FINGERPRINT``, ``TOTP``): ``true`` or ``false`` as the server reported it, empty when it
  did not report that factor (Authing reports ``OTP`` and ``FACE``) or the user failed;
- ``otherFactors``: a factor the server reports that `MfaType` does not know yet lands here,
  all of them as one JSON object (``{"WEBAUTHN": true}``), so that a newer server loses
  nothing; empty when there is none;
- ``error``: the error's type (``NotFoundError``, ``ServerError``...), empty when the status
  was read; ``message``: what it said.

A JSON Lines report needs no header: ``{"userId": "u1", "factors": {"FACE": false, "OTP":
true}, "error": null, "message": null}``, ``factors`` being ``null`` for a user that failed.
Neither form holds a secret: the pool secret is taken out of any message that echoes it.
"""

from __future__ import annotations

__all__ = ["FACTORS", "HEADER", "StatusReport"]

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal, NoReturn, TextIO

from authing_mfa._models import MfaType

from ._exit import UsageError

FACTORS = tuple(member.value for member in MfaType)
HEADER = ("userId", *FACTORS, "otherFactors", "error", "message")
ReportFormat = Literal["csv", "jsonl"]
_LINE_BREAKS_ESCAPED = {ord(c): f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"}
_JSON_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})


class StatusReport:
    """A report being written: to a file it opened, or to a stream it was given.

    Belongs to one thread: the run writes it from its event loop only.

    Args:
        stream: where the rows go.
        report_format: ``"csv"`` or ``"jsonl"``.
        path: the file *stream* writes, which `close` closes; ``None`` for standard output,
            which it only flushes.

    Raises:
        UsageError: the header cannot be written.
    """

    def __init__(self, stream: TextIO, report_format: ReportFormat, path: Path | None) -> None:
        self.format = report_format
        self.path = path
        self._stream = stream
        self._csv = csv.writer(stream, lineterminator="\n") if report_format == "csv" else None
        if self._csv is not None:
            self._write_csv(HEADER)

    @staticmethod
    def format_for(path: Path | None, *, as_json: bool) -> ReportFormat:
        """Return the format of a report to *path*: JSON Lines by extension or ``--json``.

        Raises:
            UsageError: ``--json`` with a ``.csv`` path.
        """
        suffix = "" if path is None else path.suffix.lower()
        if as_json and suffix == ".csv":
            raise UsageError(f"{path}: --json writes JSON Lines, not CSV: name it .jsonl")
        return "jsonl" if as_json or suffix in _JSON_SUFFIXES else "csv"

    @classmethod
    def open(cls, path: Path | None, report_format: ReportFormat, stdout: TextIO) -> StatusReport:
        """Start a report at *path* (replacing the file), or on *stdout* for ``None``.

        Raises:
            UsageError: *path* cannot be written.
        """
        if path is None:
            return cls(stdout, report_format, None)
        try:
            # Checked user ids are valid UTF-8; the error handler is a last resort only.
            stream = path.open("w", encoding="utf-8", errors="backslashreplace", newline="")
        except OSError as exc:
            raise UsageError(f"{path}: cannot write: {_reason(exc)}") from None
        try:
            return cls(stream, report_format, path)
        except BaseException:
            stream.close()
            raise

    @property
    def name(self) -> str:
        """How messages name the report: its path, or standard output."""
        return "standard output" if self.path is None else str(self.path)

    def row(
        self,
        user_id: str,
        factors: Mapping[str, bool] | None,
        error: str | None = None,
        message: str | None = None,
    ) -> None:
        """Write one user's row: their *factors*, or the *error* that kept them from us.

        Raises:
            UsageError: the report cannot be written.
        """
        if self._csv is not None:
            reported = factors or {}
            other = {name: bound for name, bound in reported.items() if name not in FACTORS}
            self._write_csv(
                [
                    user_id,
                    *(_cell(reported.get(name)) for name in FACTORS),
                    json.dumps(dict(sorted(other.items())), ensure_ascii=False) if other else "",
                    error or "",
                    message or "",
                ]
            )
            return
        entry = {
            "userId": user_id,
            "factors": None if factors is None else dict(sorted(factors.items())),
            "error": error,
            "message": message,
        }
        # JSON leaves these raw, but str.splitlines() and many editors break lines at them.
        text = json.dumps(entry, ensure_ascii=False).translate(_LINE_BREAKS_ESCAPED)
        try:
            self._stream.write(text + "\n")
        except OSError as exc:
            self._refuse(exc)

    def close(self) -> None:
        """Close the report's file, or flush standard output.

        Raises:
            UsageError: the report cannot be written.
        """
        try:
            if self.path is None:
                self._stream.flush()
            else:
                self._stream.close()
        except OSError as exc:
            self._refuse(exc)

    def _write_csv(self, cells: Iterable[str]) -> None:
        assert self._csv is not None  # noqa: S101 - a CSV report
        try:
            self._csv.writerow(cells)
        except OSError as exc:
            self._refuse(exc)

    def _refuse(self, exc: OSError) -> NoReturn:
        if isinstance(exc, BrokenPipeError):
            raise exc  # the reader left: the command ends quietly (see _main)
        raise UsageError(f"{self.name}: cannot write: {_reason(exc)}") from None


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _cell(bound: bool | None) -> str:  # noqa: FBT001 - a cell's value
    return "" if bound is None else "true" if bound else "false"
