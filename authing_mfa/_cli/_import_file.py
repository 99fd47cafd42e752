"""``authing-mfa import-totp --from FILE``: a whole migration, with progress, journal and resume.

Every row ends in exactly one journal line: ``imported``, ``failed`` (the server or the
network said no, after the retries) or ``invalid`` (refused before sending: an empty or bad
user id, a key that is not base32, an otpauth URI Authing cannot use, a user id already seen
earlier in the file). Bad rows are reported by line number; no output, journal line or
failures-file line ever holds a key or a recovery code.

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
and each user ends with exactly the key of its row.

The failures file
-----------------
It lists this run's failed and invalid rows in the journal's line format (line number, user
id, reason): no keys, so it is safe to attach to a ticket. It is fed back in together with
the original file, which holds the keys: ``--only FAILURES --from FILE`` imports only the rows
it names (after fixing them in FILE, for invalid ones), and ``--resume`` does the same for
every row not yet imported.
"""

from __future__ import annotations

__all__ = ["ImportOptions", "run_import_file"]

import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import anyio
import attrs

from authing_mfa._async_client import AsyncMfaClient
from authing_mfa._bulk_rows import ImportOutcome, RowNames, TotpRecord, check_record
from authing_mfa._errors import ApiError, AuthingMfaError

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
from ._row_file import FileFormatError, Format, count_rows, detect_format, read_rows

FILE_NAMES = RowNames("userId", "secret", "recoveryCode")


@attrs.frozen(kw_only=True)
class ImportOptions:
    """What ``import-totp --from`` was asked to do."""

    source: Path
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

    @property
    def journal_path(self) -> Path:
        """The journal: ``--journal``, else ``FILE.journal.jsonl`` next to the input."""
        return self.journal or self.source.with_name(self.source.name + ".journal.jsonl")

    @property
    def failures_path(self) -> Path:
        """The failures file: ``--failures``, else ``FILE.failures.jsonl``."""
        return self.failures or self.source.with_name(self.source.name + ".failures.jsonl")


class _Run:
    """One pass over the file: the checks, the counters and the writing of results."""

    def __init__(self, options: ImportOptions, out: TextIO, err: TextIO) -> None:
        self.options = options
        self.out = out
        self.file_format = options.file_format or detect_format(options.source)
        self.only = read_line_numbers(options.only) if options.only else None
        self.imported_before = read_imported(options.journal_path) if options.resume else IntMap()
        total = (
            len(self.only)
            if self.only is not None
            else count_rows(options.source, self.file_format)
        )
        self.progress = Progress.for_stream(total, err, quiet=options.quiet)
        self.seen = IntMap("i")
        self.pending_lines: dict[int, int] = {}
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.journal: Journal | None = None
        self.failures: Journal | None = None

    def rows(self) -> Iterator[TotpRecord]:
        """Yield the rows to import, checked; report the bad ones; skip those done before."""
        index = 0
        for row in read_rows(self.options.source, self.file_format):
            if self.only is not None and self.only.get(row.line) is None:
                continue
            record, problem = row.record, row.problem
            if record is not None:
                try:
                    record = check_record(record, FILE_NAMES)
                except AuthingMfaError as exc:
                    # The library's hint about validate_secret means nothing on the command line.
                    problem = str(exc).split(" (pass validate_secret", 1)[0]
                else:
                    first = self.seen.setdefault(id_hash(record.user_id), row.line)
                    if first is not None:
                        problem = f"duplicate userId: already on line {first}"
            if problem is not None:
                user_id = row.record.user_id if row.record is not None else None
                self._finish(row.line, user_id, INVALID, "InvalidArgumentError", None, problem)
                continue
            assert record is not None  # noqa: S101 - no problem means a record
            done_before = self.imported_before.get(row.line)
            if done_before is not None:
                if done_before != id_hash(record.user_id):
                    raise UsageError(
                        f"line {row.line}: the journal shows another user imported from this "
                        "line, so the file changed since; start a new journal"
                    )
                self.counts["skipped"] += 1
                self.progress.add()
                continue
            self.pending_lines[index] = row.line
            index += 1
            yield record

    def outcome(self, outcome: ImportOutcome) -> None:
        """Record the outcome of one imported row."""
        line = self.pending_lines.pop(outcome.index)
        error = outcome.error
        if error is None:
            self._finish(line, outcome.record.user_id, IMPORTED, None, None, None)
            return
        code = error.code if isinstance(error, ApiError) else None
        self._finish(line, outcome.record.user_id, FAILED, type(error).__name__, code, str(error))

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
            who = f"user {user_id}" if isinstance(user_id, str) and user_id else "no user id"
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
            if failed:
                text += (
                    f"failures: {self.options.failures_path} (no keys in it); after fixing the "
                    f"rows, run again with --resume to retry every row not imported\n"
                )
        return text


def run_import_file(
    options: ImportOptions, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run ``import-totp --from``; return the exit code (0 all imported, 1 some not, 2 usage).

    *out* and *err* default to the standard streams of the moment of the call.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    started = time.monotonic()
    try:
        _check_files(options)
        run = _Run(options, out, err)
        if options.dry_run:
            for _record in run.rows():
                run.counts[IMPORTED] += 1
                run.progress.add()
                run.pending_lines.clear()
        else:
            client = AsyncMfaClient(**options.client)  # type: ignore[arg-type]
            run.journal = Journal(options.journal_path)
            run.failures = Journal(options.failures_path, truncate=True)
            try:
                run.journal.start(options.source)
                anyio.run(_import, run, client)
                run.journal.write({"event": "end", **run.counts})
            finally:
                run.journal.close()
                run.failures.close()
    except (UsageError, FileFormatError, OSError) as exc:
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
    return EXIT_FAILED if run.counts[FAILED] + run.counts[INVALID] else EXIT_OK


def _check_files(options: ImportOptions) -> None:
    if not options.source.is_file():
        raise UsageError(f"{options.source}: no such file")
    if options.only is not None and not options.only.is_file():
        raise UsageError(f"{options.only}: no such file")
    if not options.dry_run and not options.resume and has_rows(options.journal_path):
        raise UsageError(
            f"{options.journal_path} already records rows: pass --resume to carry on from "
            "it, or --journal to start a new one"
        )


async def _import(run: _Run, client: AsyncMfaClient) -> None:
    async with (
        client,
        client.import_totp_many(
            run.rows(), concurrency=run.options.concurrency, rate_limit=run.options.rate_limit
        ) as outcomes,
    ):
        async for outcome in outcomes:
            run.outcome(outcome)
