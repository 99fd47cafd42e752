"""A bulk command over a file of rows: ``import-totp``, ``status`` and ``unbind`` with ``--from``.

One implementation of what the three share: reading the rows (`_row_file`), checking each
before anything is sent, sending them through the client's bulk call, the journal and
``--resume``, ``--only``, the failures file, progress, the per-row report lines, the summary,
the stop on refused credentials, and the exit code. What differs, the columns, the check,
the call and what a done row becomes, is a `Command` (`_import_file`, `_status_file`,
`_unbind_file`).

Every row ends in exactly one outcome: done (``imported``, ``unbound``, or for ``status`` read),
``failed`` (the server or the network said no, after the retries) or ``invalid`` (refused
before sending: a line that is not a row, an empty or bad user id, a key that is not base32, a
user id already seen earlier in the file; `_row_file` lists what makes a line invalid). For
``status`` and ``unbind`` a user id seen earlier is not invalid but skipped, its work being
done once already. Bad rows are reported by line number; no output, journal line or
failures-file line ever holds a key or a recovery code. ``FILE`` may be ``-``, standard input
(or a pipe such as ``/dev/stdin``): it is read once, as a stream.

Resume, and why a killed run loses no row and does none twice
-------------------------------------------------------------
A row's done line is written only after Authing confirmed it, and flushed before the next
outcome is handled. ``--resume`` re-reads the same file and skips exactly the rows whose line
number the journal shows done *for the same user id* (a different id on that line means the
file changed, and the run stops with exit code 2 rather than guess); every other row, failed,
invalid or never finished, is sent again. After a SIGKILL, the rows that were in flight have
no journal line: Authing may or may not have done them. They are sent again, which is safe
because both calls may be repeated: an import replaces the user's key with the same key, an
unbind of a factor no longer bound succeeds. So, counting across all runs, each row has
exactly one done line. With standard input, ``--resume`` needs the same rows piped in again,
and ``--journal`` (there is no file name to put it next to). A journal is resumed only by the
command (and factor) that wrote it.

A run that cannot go on
-----------------------
When Authing refuses the pool's credentials (`AuthenticationError`) or their permission
(`PermissionDeniedError`), no row can succeed: the run stops at once instead of sending every
row to the same refusal. No further row is read; the rows in flight finish and are journaled
(a row read but never reported is journaled as failed with that error), and the command
exits 2 saying what to fix and how many rows were not started; ``--resume`` carries on once
the credentials are fixed.

The failures file
-----------------
It lists this run's failed and invalid rows in the journal's line format (line number, user
id, reason): no keys, so it is safe to attach to a ticket. It is fed back in together with
the original file: ``--only FAILURES --from FILE`` runs only the rows it names (after fixing
them in FILE, in place, for invalid ones), and ``--resume`` does the same for every row not yet
done. ``--only`` reads FAILURES whole before this run rewrites the failures file (the same
file, by default), appends to the journal as ``--resume`` does (skipping the rows it shows
done), and reports a listed line FILE has no row on as invalid. A run with ``--only`` that
stops early (credentials refused, Ctrl-C) keeps the listed rows it did not reach in the new
failures file, as ``NotStarted``, so the list is not lost.
"""

from __future__ import annotations

__all__ = [
    "DUPLICATE",
    "SKIPPED",
    "Command",
    "FileOptions",
    "FileRun",
    "UserIdCommand",
    "check_files",
    "dry_run",
    "redacted",
    "run_file",
    "same_file",
    "shown",
]

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import anyio
import attrs

from authing_mfa._async_client import AsyncMfaClient
from authing_mfa._bulk import STOPS_THE_RUN
from authing_mfa._bulk_rows import Outcome
from authing_mfa._errors import ApiError, AuthenticationError, AuthingMfaError
from authing_mfa._settings import ENV_SECRET
from authing_mfa._validation import check_user_id

from ._exit import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, cli_message
from ._intmap import IntMap, id_hash
from ._journal import FAILED, INVALID, Journal, has_rows, read_done, read_line_numbers
from ._progress import Progress
from ._row_file import ID_COLUMNS, Columns, FileFormatError, Format, Row, RowSource

if TYPE_CHECKING:
    from authing_mfa._bulk import BulkStream

_LISTED, _REACHED = 1, 2  # the states of a line of --only
SKIPPED = "skipped"
DUPLICATE = "duplicate"


@attrs.frozen(kw_only=True)
class FileOptions:
    """What a bulk command with ``--from`` was asked to do."""

    source: Path | None
    """The rows' file, or ``None`` for standard input (``--from -``)."""
    file_format: Format | None = None
    journal: Path | None = None
    failures: Path | None = None
    only: Path | None = None
    resume: bool = False
    dry_run: bool = False
    quiet: bool = False
    concurrency: int = 8
    rate_limit: float | None = None
    client: dict[str, object] = attrs.field(factory=dict)
    """Keyword arguments for `AsyncMfaClient` (pool id, host, retries)."""
    stdin: BinaryIO | None = attrs.field(default=None, eq=False)
    """Standard input's bytes; ``None``: the process's."""
    files_infix: str = ""
    """What the default journal and failures file names hold after ``FILE.``: ``unbind-otp.``."""

    @property
    def journal_path(self) -> Path | None:
        """The journal: ``--journal``, else ``FILE.journal.jsonl``; none for stdin without it."""
        if self.journal is not None or self.source is None:
            return self.journal
        return self.source.with_name(f"{self.source.name}.{self.files_infix}journal.jsonl")

    @property
    def failures_path(self) -> Path | None:
        """The failures file: ``--failures``, else ``FILE.failures.jsonl``.

        For standard input, ``JOURNAL.failures.jsonl``, next to the journal.
        """
        if self.failures is not None:
            return self.failures
        if self.source is not None:
            return self.source.with_name(f"{self.source.name}.{self.files_infix}failures.jsonl")
        base = self.journal
        return None if base is None else base.with_name(base.name + ".failures.jsonl")

    @property
    def appends(self) -> bool:
        """Whether this run carries on from the journal: ``--resume``, which ``--only`` implies."""
        return self.resume or self.only is not None


class Command:
    """What one bulk command does with its rows; `run_file` does the rest.

    A subclass sets the class attributes and `check` and `send`; `done_row`, `failed_row`,
    `open_outputs`, `close_outputs` and `report` let it write results of its own (the status
    report). An instance serves one run.
    """

    name: str
    """The command, as messages name it: ``import-totp``."""
    columns: Columns
    done: str
    """The outcome of a row done, as the journal and the summary name it: ``imported``."""
    verbs: tuple[str, str]
    """The summary's verb, for a dry run and for a real one: ``("would import", "imported")``."""
    journaled: bool = True
    """Whether the command writes a journal and a failures file (``status`` does not)."""
    duplicates_invalid: bool = True
    """Whether a user id seen earlier in the file makes its row invalid (else it is skipped)."""
    refused: str
    """What refused permissions mean, for the stop message: ``may not import keys``."""

    def journal_run(self) -> dict[str, str]:
        """Return what the journal's start line says of this run, checked by ``--resume``."""
        return {"command": self.name}

    def check(self, values: tuple[object, ...]) -> Any:  # noqa: ANN401 - the command's record
        """Return the record to send for a row's *values*.

        Raises:
            AuthingMfaError: the row cannot be sent; the message names the column.
        """
        raise NotImplementedError

    def user_id(self, record: Any) -> str:  # noqa: ANN401
        """Return the user id of *record*, as `check` made it."""
        return str(record)

    def secrets(self, record: Any) -> Iterable[str]:  # noqa: ANN401, ARG002
        """Return what must never be printed of *record*: its key and recovery code."""
        return ()

    def send(
        self,
        client: AsyncMfaClient,
        records: Iterator[Any],
        *,
        concurrency: int,
        rate_limit: float | None,
    ) -> BulkStream[Any]:
        """Return the client's bulk call over *records*, giving `Outcome`s."""
        raise NotImplementedError

    def check_outputs(self, options: FileOptions) -> None:
        """Refuse outputs of the command's own that cannot be written, before anything is sent.

        Raises:
            UsageError: naming the path.
        """

    def open_outputs(self) -> None:
        """Open the command's own outputs, once the run is about to send.

        Raises:
            UsageError: naming the path.
        """

    def close_outputs(self) -> None:
        """Close what `open_outputs` opened."""

    def done_row(self, record: Any, result: Any) -> None:  # noqa: ANN401
        """Write what a row done gives, besides its journal line."""

    def failed_row(self, record: Any, error: AuthingMfaError, message: str) -> None:  # noqa: ANN401
        """Write what a row failed after sending gives, besides its journal line."""

    def report(self, run: FileRun) -> str:  # noqa: ARG002
        """Return lines of the command's own to add to the summary."""
        return ""


class UserIdCommand(Command):
    """A command over a file of user ids (`ID_COLUMNS`), each row's record the id itself."""

    columns = ID_COLUMNS

    def check(self, values: tuple[object, ...]) -> str:
        """Return the row's user id, checked."""
        return check_user_id(values[0], "userId")


class FileRun:
    """One pass over the input: the checks, the counters and the writing of results.

    Args:
        command: what to do with the rows.
        options: how.
        source: the input, open.
        out: where the per-row lines and the summary go.
        err: where progress goes.
    """

    def __init__(
        self,
        command: Command,
        options: FileOptions,
        source: RowSource,
        out: TextIO,
        err: TextIO,
    ) -> None:
        self.command = command
        self.options = options
        self.source = source
        self.out = out
        # Read whole now: the failures file it names may be the one this run rewrites.
        self.only = read_line_numbers(options.only) if options.only else None
        journal = options.journal_path
        self.done_before = (
            read_done(journal, command.done, command.journal_run())
            if options.appends and journal is not None
            else IntMap()
        )
        self._rows = source.rows()
        total = len(self.only) if self.only is not None else source.count_rows()
        self.progress = Progress.for_stream(total, err, quiet=options.quiet)
        self.seen = IntMap("i")
        self.pending: dict[int, tuple[int, Any]] = {}
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.journal: Journal | None = None
        self.failures: Journal | None = None
        self.stopped: AuthingMfaError | None = None
        self.left = ""
        """For a stopped run: which rows were not started (`not_started`)."""
        self.last_line = 0

    def rows(self) -> Iterator[Any]:
        """Yield the records to send, checked; report the bad rows; skip those done before."""
        index = 0
        # Checked before each row is read: once a run stops, no further row is taken.
        while self.stopped is None and (row := next(self._rows, None)) is not None:
            self.last_line = row.line
            if self.only is not None:
                if self.only.get(row.line) is None:
                    continue
                self.only.put(row.line, _REACHED)
            record, problem = self._checked(row)
            if problem == DUPLICATE:
                self.counts[DUPLICATE] += 1
                self.progress.add()
            elif record is None:
                self._finish(row.line, row.user_id, INVALID, "InvalidArgumentError", None, problem)
            elif self._done_before(row.line, record):
                self.counts[SKIPPED] += 1
                self.progress.add()
            else:
                self.pending[index] = (row.line, record)
                index += 1
                yield record

    def _checked(self, row: Row) -> tuple[Any, str | None]:
        """Return the row's record as it will be sent, or ``None`` and why it cannot be."""
        if row.values is None or row.problem is not None:
            return None, row.problem
        try:
            record = self.command.check(row.values)
        except AuthingMfaError as exc:
            return None, str(exc)
        first = self.seen.setdefault(id_hash(self.command.user_id(record)), row.line)
        if first is None:
            return record, None
        if self.command.duplicates_invalid:
            return None, f"duplicate userId: already on line {first}"
        return None, DUPLICATE

    def _done_before(self, line: int, record: Any) -> bool:  # noqa: ANN401
        done_before = self.done_before.get(line)
        if done_before is None:
            return False
        if done_before != id_hash(self.command.user_id(record)):
            raise UsageError(
                f"{self.source.name}: line {line}: the journal shows another user "
                f"{self.command.done} from this line, so the file changed since; start a new "
                "journal"
            )
        return True

    def outcome(self, outcome: Outcome[Any, Any]) -> None:
        """Record the outcome of one row sent."""
        line, record = self.pending.pop(outcome.index)
        error = outcome.error
        if error is None:
            self.command.done_row(record, outcome.result)
            self._finish(line, self.command.user_id(record), self.command.done, None, None, None)
            return
        if isinstance(error, STOPS_THE_RUN) and self.stopped is None:
            self.stopped = error
        self._failed(line, record, error)

    def abandon_pending(self) -> None:
        """Journal the rows read but never reported (the run stopped) as failed, with its error."""
        assert self.stopped is not None  # noqa: S101 - called on a stopped run only
        for line, record in sorted(self.pending.values(), key=lambda pending: pending[0]):
            self._failed(line, record, self.stopped)
        self.pending.clear()

    def report_unlisted(self) -> None:
        """After a whole pass with ``--only``: report each listed line the input had no row on."""
        if self.only is None:
            return
        for line, state in sorted(self.only.items()):
            if state == _LISTED:
                self._finish(
                    line,
                    None,
                    INVALID,
                    "InvalidArgumentError",
                    None,
                    f"is listed in {self.options.only} but {self.source.name} has no row on it",
                )

    def keep_not_started(self) -> None:
        """After a stopped run with ``--only``: keep the listed rows not reached in the failures."""
        if self.only is None or self.failures is None:
            return
        for line, state in sorted(self.only.items()):
            if state == _LISTED:
                self.failures.write(
                    {
                        "line": line,
                        "userId": None,
                        "outcome": FAILED,
                        "error": "NotStarted",
                        "message": "not started: the run stopped before this row",
                    }
                )

    def not_started(self) -> str:
        """Say which rows were not started, for the message of a stopped run."""
        if self.only is not None:
            left: int | None = sum(state == _LISTED for _, state in self.only.items())
        else:
            left = self.source.count_rest()
        if left is None:
            return f"no row after line {self.last_line} was started"
        rows = "1 row was" if left == 1 else f"{left} rows were"
        return f"{rows} not started"

    def _failed(self, line: int, record: Any, error: AuthingMfaError) -> None:  # noqa: ANN401
        code = error.code if isinstance(error, ApiError) else None
        message = redacted(str(error), self.command.secrets(record))
        self.command.failed_row(record, error, message)
        user_id = self.command.user_id(record)
        self._finish(line, user_id, FAILED, type(error).__name__, code, message)

    def _finish(
        self,
        line: int,
        user_id: str | None,
        result: str,
        error: str | None,
        code: int | None,
        message: str | None,
    ) -> None:
        self.counts[result] += 1
        done = result == self.command.done
        self.progress.add(failed=not done)
        entry: dict[str, object] = {"line": line, "userId": user_id, "outcome": result}
        if done:
            if self.journal is not None:
                self.journal.write(entry)
            return
        entry.update(error=error, code=code, message=message)
        if code is None:
            del entry["code"]
        self.reasons["invalid" if result == INVALID else str(error)] += 1
        if self.journal is not None:
            self.journal.write(entry)
        if self.failures is not None:
            self.failures.write(entry)
        if not self.options.quiet:
            self.progress.clear()
            who = f"user {shown(user_id)}" if user_id else "no user id"
            self.out.write(f"line {line} ({who}): {result}: {message}\n")

    @property
    def failed(self) -> int:
        """How many rows failed or were invalid."""
        return self.counts[FAILED] + self.counts[INVALID]

    def summary(self, elapsed: float) -> str:
        """Return the summary of the run: counts, then where its files are."""
        counts = self.counts
        command = self.command
        reasons = ", ".join(f"{name} {n}" for name, n in sorted(self.reasons.items()))
        verb = command.verbs[0 if self.options.dry_run else 1]
        text = f"{verb} {counts[command.done]}, failed {self.failed}"
        text += f" ({reasons})" if reasons else ""
        if command.journaled:
            text += f", skipped {counts[SKIPPED]} (already {command.done})"
        if counts[DUPLICATE]:
            text += f", skipped {counts[DUPLICATE]} (user ids already on an earlier line)"
        text += f", in {elapsed:.1f} s\n"
        text += command.report(self)
        if command.journaled and not self.options.dry_run:
            text += f"journal: {self.options.journal_path}\n"
            failures = self.options.failures_path
            if self.failed and self.stopped is None:
                text += (
                    f"failures: {failures} (no keys in it); after fixing the rows, run again "
                    f"with --resume to retry every row not {command.done}\n"
                )
            elif self.failed:
                text += f"failures: {failures} (no keys in it)\n"
        return text


def run_file(
    command: Command,
    options: FileOptions,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run *command* over the rows of *options*; return the exit code.

    0: every row done; 1: some not (failed, invalid, or the run was interrupted); 2: usage,
    configuration or file errors, and a run stopped by refused credentials (see the module's
    docstring). *out* (per-row lines and the summary) and *err* (progress and errors) default
    to the standard streams of the moment of the call.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    started = time.monotonic()
    try:
        run = _run(command, options, out, err)
    except (UsageError, FileFormatError) as exc:
        err.write(f"authing-mfa {command.name}: error: {exc}\n")
        return EXIT_USAGE
    except AuthingMfaError as exc:  # the client's settings: a missing pool id or secret
        err.write(f"authing-mfa {command.name}: error: {cli_message(exc)}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        if command.journaled:
            err.write("\ninterrupted: the journal is up to date; run again with --resume\n")
        else:
            err.write("\ninterrupted\n")
        return EXIT_FAILED
    run.progress.finish()
    out.write(run.summary(time.monotonic() - started))
    if run.stopped is not None:
        err.write(f"authing-mfa {command.name}: error: {_stop_message(run)}\n")
        return EXIT_USAGE
    return EXIT_FAILED if run.failed else EXIT_OK


def dry_run(command: Command, options: FileOptions, out: TextIO, err: TextIO) -> FileRun:
    """Check every row of *options* and count them, sending nothing; return the finished run.

    Raises:
        UsageError, FileFormatError: as `run_file` reports them.
    """
    return _run(command, attrs.evolve(options, dry_run=True), out, err)


def _run(command: Command, options: FileOptions, out: TextIO, err: TextIO) -> FileRun:
    check_files(command, options)
    if options.source is None:
        source = RowSource.open(None, options.file_format, _stdin(options), command.columns)
    else:
        source = RowSource.open(options.source, options.file_format, None, command.columns)
    try:
        run = FileRun(command, options, source, out, err)
        if options.dry_run:
            for _record in run.rows():
                run.counts[command.done] += 1
                run.progress.add()
                run.pending.clear()
            run.report_unlisted()
        else:
            _send_all(run, AsyncMfaClient(**options.client))  # type: ignore[arg-type]
    finally:
        source.close()
    return run


def _send_all(run: FileRun, client: AsyncMfaClient) -> None:
    options, command = run.options, run.command
    journal_path, failures_path = options.journal_path, options.failures_path
    if command.journaled:
        assert journal_path is not None  # noqa: S101 - check_files saw to it
        # The journal first: a run that cannot open it must not have emptied the failures file.
        run.journal = Journal(journal_path)
    completed = False
    try:
        if run.journal is not None:
            assert failures_path is not None  # noqa: S101
            run.failures = Journal(failures_path, truncate=True)
            run.journal.start(options.source, command.journal_run())
        command.open_outputs()
        anyio.run(_send, run, client)
        if run.stopped is not None:
            run.abandon_pending()
            run.left = run.not_started()  # while the input is open, to count what is left
        else:
            run.report_unlisted()
            completed = True
        if run.journal is not None:
            event = "end" if completed else "stopped"
            extra = {} if run.stopped is None else {"error": type(run.stopped).__name__}
            run.journal.write({"event": event, **extra, **run.counts})
    finally:
        try:
            if not completed:
                run.keep_not_started()
        finally:
            try:
                command.close_outputs()
            finally:
                if run.journal is not None:
                    run.journal.close()
                if run.failures is not None:
                    run.failures.close()


async def _send(run: FileRun, client: AsyncMfaClient) -> None:
    options = run.options
    async with (
        client,
        run.command.send(
            client, run.rows(), concurrency=options.concurrency, rate_limit=options.rate_limit
        ) as outcomes,
    ):
        try:
            async for outcome in outcomes:
                run.outcome(outcome)
        except STOPS_THE_RUN as exc:
            # The bulk engine stops reading rows at the first such outcome (and so does
            # `rows`), reports the rows in flight, then raises it.
            run.stopped = run.stopped or exc


def _stop_message(run: FileRun) -> str:
    error = run.stopped
    assert error is not None  # noqa: S101 - a stopped run
    if isinstance(error, AuthenticationError):
        what = "the user pool's credentials were refused"
        fix = "check AUTHING_USERPOOL_ID (or --user-pool-id), AUTHING_USERPOOL_SECRET and --host"
    else:
        what = f"the user pool's credentials {run.command.refused}"
        fix = (
            "check that AUTHING_USERPOOL_ID (or --user-pool-id) and AUTHING_USERPOOL_SECRET are "
            "those of the pool, with access to the management API"
        )
    again = "run again with --resume" if run.command.journaled else "run again"
    cause = f"{type(error).__name__}: {redacted(str(error), ())}"
    return f"{what} ({cause}): {fix}; {run.left}; {again} once fixed"


def redacted(text: str, secrets: Iterable[str]) -> str:
    """Return *text* without *secrets*, nor the pool secret, should it echo them."""
    for secret in [os.environ.get(ENV_SECRET) or "", *secrets]:
        if len(secret) >= 4:  # noqa: PLR2004 - shorter strings would blank out ordinary words
            text = text.replace(secret, "***")
    return text


def shown(user_id: str) -> str:
    """Return *user_id* as printed: as it is if plainly printable, else quoted and escaped."""
    if user_id.isprintable() and user_id.strip() == user_id and len(user_id) <= 80:  # noqa: PLR2004
        return user_id
    return json.dumps(user_id[:80]) + ("..." if len(user_id) > 80 else "")  # noqa: PLR2004


def _stdin(options: FileOptions) -> BinaryIO:
    if options.stdin is not None:
        return options.stdin
    stdin: BinaryIO | None = getattr(sys.stdin, "buffer", None)
    if stdin is None:
        raise UsageError("standard input cannot be read as bytes")
    return stdin


def check_files(command: Command, options: FileOptions) -> None:
    """Refuse, before any row is read, files the run of *command* could not use.

    Raises:
        UsageError: naming the path and why.
    """
    if options.only is not None:
        _check_readable(options.only)
    if options.dry_run:
        return
    command.check_outputs(options)
    if not command.journaled:
        return
    if options.source is None and options.journal is None:
        raise UsageError(
            "--from - reads the rows from standard input, which has no file name to put the "
            "journal next to: pass --journal PATH (the failures file is then "
            "PATH.failures.jsonl unless --failures says otherwise)"
        )
    journal, failures = options.journal_path, options.failures_path
    assert journal is not None  # noqa: S101 - checked above
    assert failures is not None  # noqa: S101
    _check_outputs(journal, failures, options.source)
    if not options.appends and has_rows(journal):
        raise UsageError(
            f"{journal} already records rows: pass --resume to carry on from it, or "
            "--journal to start a new one"
        )


def _check_outputs(journal: Path, failures: Path, source: Path | None) -> None:
    for path in (journal, failures):
        if path.is_dir():
            raise UsageError(f"{path}: is a directory")
    if source is not None:
        for path, what in ((journal, "journal"), (failures, "failures file")):
            if same_file(path, source):
                raise UsageError(f"{path}: the {what} cannot be the file of rows it reports on")
    if same_file(journal, failures):
        raise UsageError(f"{journal}: the journal and the failures file must be two files")


def _check_readable(path: Path) -> None:
    if path.is_dir():
        raise UsageError(f"{path}: is a directory")
    if not path.exists():
        raise UsageError(f"{path}: no such file")


def same_file(one: Path, other: Path) -> bool:
    """Whether two paths name the same file, existing or not."""
    try:
        return one.samefile(other)
    except OSError:  # one of them does not exist (yet)
        return one.resolve() == other.resolve()
