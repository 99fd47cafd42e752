"""``authing-mfa import-totp --from FILE``: a whole migration, with progress, journal and resume.

Every row ends in exactly one journal line: ``imported``, ``failed`` (the server or the
network said no, after the retries) or ``invalid`` (refused before sending: a line that is
not a row, an empty or bad user id, a key that is not base32, an otpauth URI Authing cannot
use, a user id already seen earlier in the file; `_row_file` lists what makes a line
invalid). Bad rows are reported by line number; no output, journal line or failures-file line
ever holds a key or a recovery code. ``FILE`` may be ``-``, standard input (or a pipe such as
``/dev/stdin``): it is read once, as a stream.

Resume, and why a killed run loses no row and imports none twice
----------------------------------------------------------------
A row's ``imported`` line is written only after Authing confirmed the import, and flushed
before the next outcome is handled. ``--resume`` re-reads the same file and skips exactly the
rows whose line number the journal shows imported *for the same user id* (a different id on
that line means the file changed, and the run stops with exit code 2 rather than guess);
every other row, failed, invalid or never finished, is sent again. After a SIGKILL, the rows
that were in flight have no journal line: Authing may or may not have stored their key. They
are sent again, which is safe because the import is an upsert: it replaces the user's key
with the same key. So, counting across all runs, each row has exactly one ``imported`` line,
and each user ends with exactly the key of its row. With standard input, ``--resume`` needs
the same rows piped in again, and ``--journal`` (there is no file name to put it next to).

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
the original file, which holds the keys: ``--only FAILURES --from FILE`` imports only the rows
it names (after fixing them in FILE, in place, for invalid ones), and ``--resume`` does the
same for every row not yet imported. ``--only`` reads FAILURES whole before this run rewrites
the failures file (the same file, by default), appends to the journal as ``--resume`` does
(skipping the rows it shows imported), and reports a listed line FILE has no row on as
invalid. A run with ``--only`` that stops early (credentials refused, Ctrl-C) keeps the listed
rows it did not reach in the new failures file, as ``NotStarted``, so the list is not lost.
"""

from __future__ import annotations

__all__ = ["ImportOptions", "run_import_file"]

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

import anyio
import attrs

from authing_mfa._async_client import AsyncMfaClient
from authing_mfa._bulk_rows import ImportOutcome, RowNames, TotpRecord, check_record
from authing_mfa._errors import (
    ApiError,
    AuthenticationError,
    AuthingMfaError,
    PermissionDeniedError,
)

from ._exit import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, cli_message
from ._intmap import IntMap, id_hash
from ._journal import (
    FAILED,
    IMPORTED,
    INVALID,
    Journal,
    has_rows,
    read_imported,
    read_line_numbers,
)
from ._progress import Progress
from ._row_file import FileFormatError, Format, Row, RowSource

FILE_NAMES = RowNames("userId", "secret", "recoveryCode")
# Errors no row can escape: every other row would meet them too.
_FATAL = (AuthenticationError, PermissionDeniedError)
_LISTED, _REACHED = 1, 2  # the states of a line of --only
_SECRET_ENV = "AUTHING_USERPOOL_SECRET"  # noqa: S105 - a variable's name


@attrs.frozen(kw_only=True)
class ImportOptions:
    """What ``import-totp --from`` was asked to do."""

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

    @property
    def journal_path(self) -> Path | None:
        """The journal: ``--journal``, else ``FILE.journal.jsonl``; none for stdin without it."""
        if self.journal is not None or self.source is None:
            return self.journal
        return self.source.with_name(self.source.name + ".journal.jsonl")

    @property
    def failures_path(self) -> Path | None:
        """The failures file: ``--failures``, else ``FILE.failures.jsonl``.

        For standard input, ``JOURNAL.failures.jsonl``, next to the journal.
        """
        if self.failures is not None:
            return self.failures
        base = self.source if self.source is not None else self.journal
        return None if base is None else base.with_name(base.name + ".failures.jsonl")

    @property
    def appends(self) -> bool:
        """Whether this run carries on from the journal: ``--resume``, which ``--only`` implies."""
        return self.resume or self.only is not None


class _Run:
    """One pass over the input: the checks, the counters and the writing of results."""

    def __init__(self, options: ImportOptions, source: RowSource, out: TextIO, err: TextIO) -> None:
        self.options = options
        self.source = source
        self.out = out
        # Read whole now: the failures file it names may be the one this run rewrites.
        self.only = read_line_numbers(options.only) if options.only else None
        journal = options.journal_path
        self.imported_before = (
            read_imported(journal) if options.appends and journal is not None else IntMap()
        )
        self._rows = source.rows()
        total = len(self.only) if self.only is not None else source.count_rows()
        self.progress = Progress.for_stream(total, err, quiet=options.quiet)
        self.seen = IntMap("i")
        self.pending: dict[int, tuple[int, TotpRecord]] = {}
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.journal: Journal | None = None
        self.failures: Journal | None = None
        self.stopped: AuthingMfaError | None = None
        self.left = ""
        """For a stopped run: which rows were not started (`not_started`)."""
        self.last_line = 0

    def rows(self) -> Iterator[TotpRecord]:
        """Yield the rows to import, checked; report the bad ones; skip those done before."""
        index = 0
        # Checked before each row is read: once a run stops, no further row is taken.
        while self.stopped is None and (row := next(self._rows, None)) is not None:
            self.last_line = row.line
            if self.only is not None:
                if self.only.get(row.line) is None:
                    continue
                self.only.put(row.line, _REACHED)
            record, problem = self._checked(row)
            if record is None:
                user_id = row.record.user_id if row.record is not None else None
                self._finish(row.line, user_id, INVALID, "InvalidArgumentError", None, problem)
            elif self._imported_before(row.line, record):
                self.counts["skipped"] += 1
                self.progress.add()
            else:
                self.pending[index] = (row.line, record)
                index += 1
                yield record

    def _checked(self, row: Row) -> tuple[TotpRecord | None, str | None]:
        """Return the row's record as it will be sent, or ``None`` and why it cannot be."""
        if row.record is None or row.problem is not None:
            return None, row.problem
        try:
            record = check_record(row.record, FILE_NAMES)
        except AuthingMfaError as exc:
            return None, str(exc)
        first = self.seen.setdefault(id_hash(record.user_id), row.line)
        if first is not None:
            return None, f"duplicate userId: already on line {first}"
        return record, None

    def _imported_before(self, line: int, record: TotpRecord) -> bool:
        done_before = self.imported_before.get(line)
        if done_before is None:
            return False
        if done_before != id_hash(record.user_id):
            raise UsageError(
                f"{self.source.name}: line {line}: the journal shows another user imported "
                "from this line, so the file changed since; start a new journal"
            )
        return True

    def outcome(self, outcome: ImportOutcome) -> None:
        """Record the outcome of one imported row."""
        line, record = self.pending.pop(outcome.index)
        error = outcome.error
        if error is None:
            self._finish(line, record.user_id, IMPORTED, None, None, None)
            return
        if isinstance(error, _FATAL) and self.stopped is None:
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

    def _failed(self, line: int, record: TotpRecord, error: AuthingMfaError) -> None:
        code = error.code if isinstance(error, ApiError) else None
        message = _redacted(str(error), record)
        self._finish(line, record.user_id, FAILED, type(error).__name__, code, message)

    def _finish(
        self,
        line: int,
        user_id: object,
        result: str,
        error: str | None,
        code: int | None,
        message: str | None,
    ) -> None:
        self.counts[result] += 1
        self.progress.add(failed=result != IMPORTED)
        entry: dict[str, object] = {
            "line": line,
            "userId": user_id if isinstance(user_id, str) else None,
            "outcome": result,
        }
        if result == IMPORTED:
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
            who = (
                f"user {_shown(user_id)}" if isinstance(user_id, str) and user_id else "no user id"
            )
            self.out.write(f"line {line} ({who}): {result}: {message}\n")

    def summary(self, elapsed: float) -> str:
        counts = self.counts
        reasons = ", ".join(f"{name} {n}" for name, n in sorted(self.reasons.items()))
        verb = "would import" if self.options.dry_run else "imported"
        failed = counts[FAILED] + counts[INVALID]
        text = (
            f"{verb} {counts[IMPORTED]}, failed {failed}"
            + (f" ({reasons})" if reasons else "")
            + f", skipped {counts['skipped']} (already imported), in {elapsed:.1f} s\n"
        )
        if not self.options.dry_run:
            text += f"journal: {self.options.journal_path}\n"
            if failed and self.stopped is None:
                text += (
                    f"failures: {self.options.failures_path} (no keys in it); after fixing the "
                    f"rows, run again with --resume to retry every row not imported\n"
                )
            elif failed:
                text += f"failures: {self.options.failures_path} (no keys in it)\n"
        return text


def run_import_file(
    options: ImportOptions, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run ``import-totp --from``; return the exit code (0 all imported, 1 some not, 2 usage).

    *out* and *err* default to the standard streams of the moment of the call. Exit code 2
    also ends a run stopped by refused credentials (see the module's docstring).
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    started = time.monotonic()
    try:
        _check_files(options)
        source = RowSource.open(options.source, options.file_format, _stdin(options))
        try:
            run = _Run(options, source, out, err)
            if options.dry_run:
                for _record in run.rows():
                    run.counts[IMPORTED] += 1
                    run.progress.add()
                    run.pending.clear()
                run.report_unlisted()
            else:
                _import_all(run, AsyncMfaClient(**options.client))  # type: ignore[arg-type]
        finally:
            source.close()
    except (UsageError, FileFormatError) as exc:
        err.write(f"authing-mfa import-totp: error: {exc}\n")
        return EXIT_USAGE
    except AuthingMfaError as exc:  # the client's settings: a missing pool id or secret
        err.write(f"authing-mfa import-totp: error: {cli_message(exc)}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.write("\ninterrupted: the journal is up to date; run again with --resume\n")
        return EXIT_FAILED
    run.progress.finish()
    out.write(run.summary(time.monotonic() - started))
    if run.stopped is not None:
        err.write(f"authing-mfa import-totp: error: {_stop_message(run)}\n")
        return EXIT_USAGE
    return EXIT_FAILED if run.counts[FAILED] + run.counts[INVALID] else EXIT_OK


def _import_all(run: _Run, client: AsyncMfaClient) -> None:
    options = run.options
    journal_path, failures_path = options.journal_path, options.failures_path
    assert journal_path is not None  # noqa: S101 - _check_files saw to it
    assert failures_path is not None  # noqa: S101
    # The journal first: a run that cannot open it must not have emptied the failures file.
    run.journal = Journal(journal_path)
    completed = False
    try:
        run.failures = Journal(failures_path, truncate=True)
        run.journal.start(options.source)
        anyio.run(_import, run, client)
        if run.stopped is not None:
            run.abandon_pending()
            run.left = run.not_started()  # while the input is open, to count what is left
        else:
            run.report_unlisted()
            completed = True
        event = "end" if completed else "stopped"
        extra = {} if run.stopped is None else {"error": type(run.stopped).__name__}
        run.journal.write({"event": event, **extra, **run.counts})
    finally:
        try:
            if not completed:
                run.keep_not_started()
        finally:
            run.journal.close()
            if run.failures is not None:
                run.failures.close()


async def _import(run: _Run, client: AsyncMfaClient) -> None:
    async with (
        client,
        client.import_totp_many(
            run.rows(), concurrency=run.options.concurrency, rate_limit=run.options.rate_limit
        ) as outcomes,
    ):
        try:
            async for outcome in outcomes:
                run.outcome(outcome)
        except _FATAL as exc:
            # The bulk engine stops reading rows at the first such outcome (and so does
            # `rows`), reports the rows in flight, then raises it.
            run.stopped = run.stopped or exc


def _stop_message(run: _Run) -> str:
    error = run.stopped
    assert error is not None  # noqa: S101 - a stopped run
    if isinstance(error, AuthenticationError):
        what = "the user pool's credentials were refused"
        fix = "check AUTHING_USERPOOL_ID (or --user-pool-id), AUTHING_USERPOOL_SECRET and --host"
    else:
        what = "the user pool's credentials may not import keys"
        fix = (
            "check that AUTHING_USERPOOL_ID (or --user-pool-id) and AUTHING_USERPOOL_SECRET are "
            "those of the pool, with access to the management API"
        )
    return (
        f"{what} ({type(error).__name__}: {_redacted(str(error), None)}): {fix}; "
        f"{run.left}; run again with --resume once fixed"
    )


def _redacted(text: str, record: TotpRecord | None) -> str:
    """Return *text* without the row's key or code, nor the pool secret, should it echo them."""
    secrets = [os.environ.get(_SECRET_ENV) or ""]
    if record is not None:
        secrets += [record.secret, record.recovery_code or ""]
    for secret in secrets:
        if len(secret) >= 4:  # noqa: PLR2004 - shorter strings would blank out ordinary words
            text = text.replace(secret, "***")
    return text


def _shown(user_id: str) -> str:
    """Return *user_id* as printed: as it is if plainly printable, else quoted and escaped."""
    if user_id.isprintable() and user_id.strip() == user_id and len(user_id) <= 80:  # noqa: PLR2004
        return user_id
    return json.dumps(user_id[:80]) + ("..." if len(user_id) > 80 else "")  # noqa: PLR2004


def _stdin(options: ImportOptions) -> BinaryIO:
    if options.stdin is not None:
        return options.stdin
    stdin: BinaryIO | None = getattr(sys.stdin, "buffer", None)
    if stdin is None:
        raise UsageError("standard input cannot be read as bytes")
    return stdin


def _check_files(options: ImportOptions) -> None:
    if options.source is None and options.journal is None and not options.dry_run:
        raise UsageError(
            "--from - reads the rows from standard input, which has no file name to put the "
            "journal next to: pass --journal PATH (the failures file is then "
            "PATH.failures.jsonl unless --failures says otherwise)"
        )
    if options.only is not None:
        _check_readable(options.only)
    if options.dry_run:
        return
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
            if _same_file(path, source):
                raise UsageError(f"{path}: the {what} cannot be the file of rows it reports on")
    if _same_file(journal, failures):
        raise UsageError(f"{journal}: the journal and the failures file must be two files")


def _check_readable(path: Path) -> None:
    if path.is_dir():
        raise UsageError(f"{path}: is a directory")
    if not path.exists():
        raise UsageError(f"{path}: no such file")


def _same_file(one: Path, other: Path) -> bool:
    try:
        return one.samefile(other)
    except OSError:  # one of them does not exist (yet)
        return one.resolve() == other.resolve()
