"""``unbind --from FILE --type FACTOR``: incident response, one factor off every listed user.

The input is a file of user ids (`_row_file.ID_COLUMNS`); `_file_run` reads, checks, sends,
journals and reports them, with ``--resume``, ``--only`` and the failures file as for
``import-totp``. An unbind is safe to repeat (unbinding a factor no longer bound succeeds), so
a row in flight at a kill is simply sent again. The journal and the failures file are
``FILE.unbind-otp.journal.jsonl`` and ``FILE.unbind-otp.failures.jsonl`` (the factor in
lower case) unless ``--journal`` and ``--failures`` say otherwise, and a journal is resumed
only by an unbind of the same factor.

It is destructive, so it first reads the file through once, checking every row as
``--dry-run`` does, says how many users it will touch, and asks on the terminal; ``--yes``
skips the question. Without a terminal to ask on, and without ``--yes``, it refuses with exit
code 2. Standard input (``--from -``) and pipes are read once, so they can neither be counted
first nor leave standard input free to answer on: they need ``--yes``, after a ``--dry-run``
of the same ids if the count matters.
"""

from __future__ import annotations

__all__ = ["UnbindCommand", "run_unbind_file"]

import io
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

import attrs

from authing_mfa._async_client import AsyncMfaClient
from authing_mfa._bulk_rows import Outcome, UnbindRecord
from authing_mfa._errors import InvalidArgumentError
from authing_mfa._models import MfaType
from authing_mfa._validation import check_mfa_type

from ._exit import EXIT_FAILED, EXIT_USAGE, UsageError
from ._file_run import (
    DUPLICATE,
    SKIPPED,
    FileOptions,
    UserIdCommand,
    check_files,
    dry_run,
    run_file,
)
from ._journal import INVALID, UNBOUND
from ._row_file import FileFormatError

if TYPE_CHECKING:
    from authing_mfa._bulk import BulkStream

_YES = frozenset({"y", "yes"})


class UnbindCommand(UserIdCommand):
    """``unbind --from``: the factor *mfa_type* unbound from each listed user."""

    name = "unbind"
    done = UNBOUND
    duplicates_invalid = False
    refused = "may not unbind users' factors"

    def __init__(self, mfa_type: MfaType) -> None:
        self.mfa_type = mfa_type
        self.verbs = (f"would unbind {mfa_type.value} from", f"unbound {mfa_type.value} from")

    def journal_run(self) -> dict[str, str]:
        """Return the command and the factor: a journal is resumed by an unbind of the same."""
        return {"command": self.name, "type": self.mfa_type.value}

    def send(
        self,
        client: AsyncMfaClient,
        records: Iterator[str],
        *,
        concurrency: int,
        rate_limit: float | None,
    ) -> BulkStream[Outcome[UnbindRecord, bool]]:
        """Return ``unassociate_mfa_many`` over *records*."""
        return client.unassociate_mfa_many(
            records, mfa_type=self.mfa_type, concurrency=concurrency, rate_limit=rate_limit
        )


def run_unbind_file(
    options: FileOptions,
    mfa_type: str,
    *,
    yes: bool = False,
    answer: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``unbind --from``; return the exit code (0 all unbound, 1 some not, 2 usage).

    Args:
        options: the file and how to run over it.
        mfa_type: the factor, as ``--type`` gave it.
        yes: go on without asking.
        answer: where the answer to the confirmation is read, when it is a terminal
            (default: standard input).
        out: the per-row lines and the summary (default: standard output).
        err: progress, the question and errors (default: standard error).

    Exit code 1 also ends a run whose confirmation was not given, with nothing sent.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        factor = check_mfa_type(mfa_type, "--type")
    except InvalidArgumentError as exc:
        err.write(f"authing-mfa unbind: error: {exc}\n")
        return EXIT_USAGE
    command = UnbindCommand(factor)
    options = attrs.evolve(options, files_infix=f"unbind-{factor.value.lower()}.")
    if not (yes or options.dry_run):
        try:
            confirmed = _confirm(command, options, sys.stdin if answer is None else answer, err)
        except (UsageError, FileFormatError) as exc:
            err.write(f"authing-mfa unbind: error: {exc}\n")
            return EXIT_USAGE
        except KeyboardInterrupt:
            confirmed = False
        if not confirmed:
            err.write("not confirmed: nothing was sent\n")
            return EXIT_FAILED
    return run_file(command, options, out, err)


def _confirm(command: UnbindCommand, options: FileOptions, answer: TextIO, err: TextIO) -> bool:
    """Count the users the run would touch, and ask on *answer* whether to go on.

    Raises:
        UsageError: there is no way to count or to ask; and what a dry run raises.
    """
    factor = command.mfa_type.value
    source = options.source
    if source is None or (source.exists() and not source.is_dir() and not source.is_file()):
        where = "standard input" if source is None else f"{source}, not a regular file,"
        raise UsageError(
            f"{where} is read once, so it cannot be counted before asking whether to unbind "
            f"{factor} from its users, nor leave standard input free to answer on: pass --yes "
            "(check the ids first with --dry-run)"
        )
    if not source.exists() or source.is_dir():
        return True  # nothing can be sent: the run itself says why, as for every command
    check_files(command, options)  # a journal the run would refuse is refused before asking
    if not _is_terminal(answer):
        # Refuse before reading a file that may be huge: there is no one to ask anyway.
        raise UsageError(
            f"unbinding {factor} from the users of {source} needs a confirmation, and standard "
            "input is not a terminal to ask on: pass --yes (check the ids first with --dry-run)"
        )
    err.write(f"checking the user ids of {source}...\n")
    err.flush()
    counted = dry_run(command, attrs.evolve(options, quiet=True), io.StringIO(), err)
    users = counted.counts[command.done]
    if users == 0:
        return True  # nothing to unbind: the run only reports the rows
    aside = []
    if counted.counts[INVALID]:
        aside.append(f"{counted.counts[INVALID]} invalid lines, which --dry-run lists")
    if counted.counts[SKIPPED]:
        aside.append(f"{counted.counts[SKIPPED]} already unbound, per the journal")
    if counted.counts[DUPLICATE]:
        aside.append(f"{counted.counts[DUPLICATE]} repeated user ids")
    skipped = f" (skipping {', '.join(aside)})" if aside else ""
    who = "1 user" if users == 1 else f"{users} users"
    err.write(f"Unbind {factor} from {who} listed in {source}{skipped}? [y/N] ")
    err.flush()
    try:
        reply = answer.readline()
    except (KeyboardInterrupt, EOFError, OSError, UnicodeDecodeError):
        reply = ""
    if not reply.endswith("\n"):
        err.write("\n")
    return reply.strip().lower() in _YES


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError):  # closed or detached
        return False
