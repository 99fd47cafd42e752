"""``status --from FILE``: an audit of many users' MFA, as a report and a summary.

The input is a file of user ids (`_row_file.ID_COLUMNS`: CSV with a ``userId`` column, JSON
Lines with ``userId``, or one id a line); `_file_run` reads, checks and sends them, as for
every command with ``--from``. Each user read or failed is one row of the report (`_report`),
on standard output or in ``--out``; an invalid line (not a user id) is reported on standard
error by its line number, and a user id already on an earlier line is skipped. The summary,
on standard error, counts the users with each factor, with none, not found and failed.

The command changes nothing, so it keeps no journal and has no ``--resume``: a run that
stopped is run again. Exit codes: 0 every user's status was read (whatever it holds), 1 some
user was not found, failed or was an invalid line, 2 usage errors and a run stopped by
refused credentials.
"""

from __future__ import annotations

__all__ = ["StatusCommand", "run_status_file"]

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from authing_mfa._async_client import AsyncMfaClient
from authing_mfa._bulk_rows import Outcome
from authing_mfa._errors import AuthingMfaError, NotFoundError
from authing_mfa._models import MfaStatus, MfaType

from ._exit import EXIT_USAGE, UsageError
from ._file_run import FileOptions, FileRun, UserIdCommand, run_file, same_file
from ._journal import FAILED, INVALID
from ._report import ReportFormat, StatusReport

if TYPE_CHECKING:
    from authing_mfa._bulk import BulkStream

READ = "read"
_ALWAYS_SHOWN = (MfaType.OTP.value, MfaType.FACE.value)


class StatusCommand(UserIdCommand):
    """``status --from``: each user's bound factors, into a report.

    Args:
        out: the report's file, or ``None`` for *stdout*.
        report_format: the report's format.
        stdout: standard output, where a report without *out* goes.
    """

    name = "status"
    done = READ
    verbs = ("would read", "read")
    journaled = False
    duplicates_invalid = False
    refused = "may not read users' MFA"

    def __init__(self, out: Path | None, report_format: ReportFormat, stdout: TextIO) -> None:
        self.out = out
        self.report_format = report_format
        self.stdout = stdout
        self.bound: Counter[str] = Counter()
        """Users by factor bound."""
        self.none = 0
        """Users with no factor bound."""
        self.not_found = 0
        self._report: StatusReport | None = None

    def send(
        self,
        client: AsyncMfaClient,
        records: Iterator[str],
        *,
        concurrency: int,
        rate_limit: float | None,
    ) -> BulkStream[Outcome[str, MfaStatus]]:
        """Return ``get_status_many`` over *records*."""
        return client.get_status_many(records, concurrency=concurrency, rate_limit=rate_limit)

    def check_outputs(self, options: FileOptions) -> None:
        """Refuse a report path that is a directory or the input itself."""
        if self.out is None:
            return
        if self.out.is_dir():
            raise UsageError(f"{self.out}: is a directory")
        if options.source is not None and same_file(self.out, options.source):
            raise UsageError(f"{self.out}: the report cannot be the file of user ids it reads")

    def open_outputs(self) -> None:
        """Start the report."""
        self._report = StatusReport.open(self.out, self.report_format, self.stdout)

    def close_outputs(self) -> None:
        """End the report."""
        if self._report is not None:
            self._report.close()

    def done_row(self, record: str, result: MfaStatus) -> None:
        """Count the user's factors and write their row."""
        bound = [name for name, on in result.factors.items() if on]
        self.bound.update(bound)
        self.none += not bound
        assert self._report is not None  # noqa: S101 - opened before sending
        self._report.row(record, result.factors)

    def failed_row(self, record: str, error: AuthingMfaError, message: str) -> None:
        """Count the failure and write the user's row with it."""
        self.not_found += isinstance(error, NotFoundError)
        assert self._report is not None  # noqa: S101 - opened before sending
        self._report.row(record, None, type(error).__name__, message)

    def report(self, run: FileRun) -> str:
        """Return what the audit found, and what to do about what it could not read."""
        if run.options.dry_run:
            return ""
        names = [*_ALWAYS_SHOWN, *sorted(set(self.bound) - set(_ALWAYS_SHOWN))]
        factors = ", ".join(f"{self.bound[name]} with {name}" for name in names)
        text = f"users: {factors}, {self.none} with no factor bound\n"
        failed = run.counts[FAILED] - self.not_found
        invalid = run.counts[INVALID]
        report = "standard output" if self.out is None else str(self.out)
        if self.not_found or failed:
            text += (
                f"not found: {self.not_found} (not in this user pool), failed: {failed}; "
                f"their rows in the report ({report}) name the error\n"
            )
        if invalid:
            lines = (
                "1 line that is not a user id"
                if invalid == 1
                else f"{invalid} lines that are not user ids"
            )
            text += f"invalid: {lines}, listed above\n"
        if self.out is not None:
            text += f"report: {self.out}\n"
        return text


def run_status_file(
    options: FileOptions,
    *,
    out: Path | None = None,
    as_json: bool = False,
    stdout: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``status --from``; return the exit code (0 every status read, 1 some not, 2 usage).

    The report goes to *out*, or to *stdout*; progress, the lines of invalid and failed rows
    and the summary to *err*. Both default to the standard streams of the moment of the call.
    """
    stdout = sys.stdout if stdout is None else stdout
    err = sys.stderr if err is None else err
    try:
        report_format = StatusReport.format_for(out, as_json=as_json)
    except UsageError as exc:
        err.write(f"authing-mfa status: error: {exc}\n")
        return EXIT_USAGE
    command = StatusCommand(out, report_format, stdout)
    return run_file(command, options, out=err, err=err)
