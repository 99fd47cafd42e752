"""The ``authing-mfa`` command: argument parsing only; each command lives in its own module.

Exit codes (`_exit`): 0 success, 1 some work failed, 2 usage or configuration errors.

Credentials come from ``--user-pool-id`` and ``--host`` or ``$AUTHING_USERPOOL_ID`` and
``$AUTHING_HOST``; the pool secret only from ``$AUTHING_USERPOOL_SECRET``, never a flag, which
would show in the shell's history and the process list.
"""

from __future__ import annotations

__all__ = ["main"]

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from authing_mfa._version import __version__

from ._exit import EXIT_FAILED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from ._file_run import FileOptions


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo  # noqa: PLC0415 - each command imports only what it needs

    return run_demo(users=args.users)


def _emulator(args: argparse.Namespace) -> int:
    # The emulator's own command line parses the rest: one definition of its options.
    from authing_mfa.testing._command import main as emulator_main  # noqa: PLC0415

    emulator_main(args.emulator_args, prog="authing-mfa emulator")
    return EXIT_OK


def _settings(args: argparse.Namespace) -> dict[str, object]:
    settings: dict[str, object] = {
        "user_pool_id": args.user_pool_id,
        "host": args.host,
        "max_retries": args.max_retries,
        "wait_initial": args.retry_wait,
        "wait_max": max(8.0, args.retry_wait),
    }
    return settings


# The options that only make sense with --from, and their defaults (those a command has).
_FILE_OPTIONS = {
    "format": None,
    "journal": None,
    "failures": None,
    "only": None,
    "resume": False,
    "dry_run": False,
    "quiet": False,
    "concurrency": 8,
    "rate_limit": None,
    "out": None,
}


def _one_or_file(args: argparse.Namespace, one_user: str = "") -> str | None:
    """Return why USER_ID and --from do not go together as given, or ``None`` if they do."""
    if (args.user_id is None) == (args.source is None):
        return f"give either USER_ID{one_user} or --from FILE"
    if args.user_id is not None:
        given = [
            name
            for name, default in _FILE_OPTIONS.items()
            if getattr(args, name, default) != default
        ]
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            return f"{flags} apply to --from FILE only, not to one USER_ID"
    return None


def _usage_error(command: str, message: str) -> int:
    sys.stderr.write(f"authing-mfa {command}: error: {message}\n")
    return EXIT_USAGE


def _file_options(args: argparse.Namespace) -> FileOptions:
    from ._file_run import FileOptions  # noqa: PLC0415

    return FileOptions(
        source=None if str(args.source) == "-" else args.source,
        file_format=args.format,
        journal=getattr(args, "journal", None),
        failures=getattr(args, "failures", None),
        only=getattr(args, "only", None),
        resume=getattr(args, "resume", False),
        dry_run=args.dry_run,
        quiet=args.quiet,
        concurrency=args.concurrency,
        rate_limit=args.rate_limit,
        client=_settings(args),
    )


def _status(args: argparse.Namespace) -> int:
    problem = _one_or_file(args)
    if problem is not None:
        return _usage_error("status", problem)
    if args.user_id is not None:
        from ._one_user import status  # noqa: PLC0415

        return status(args.user_id, _settings(args), as_json=args.json)
    from ._status_file import run_status_file  # noqa: PLC0415

    out = None if args.out is None or str(args.out) == "-" else args.out
    return run_status_file(_file_options(args), out=out, as_json=args.json)


def _unbind(args: argparse.Namespace) -> int:
    problem = _one_or_file(args)
    if problem is not None:
        return _usage_error("unbind", problem)
    if args.user_id is not None:
        from ._one_user import unbind  # noqa: PLC0415

        return unbind(args.user_id, args.type, _settings(args))
    from ._unbind_file import run_unbind_file  # noqa: PLC0415

    return run_unbind_file(_file_options(args), args.type, yes=args.yes)


def _import_totp(args: argparse.Namespace) -> int:
    problem = _one_or_file(args, " (key on stdin or in $AUTHING_TOTP_SECRET)")
    if problem is not None:
        return _usage_error("import-totp", problem)
    if args.user_id is not None:
        from ._one_user import import_one  # noqa: PLC0415

        return import_one(args.user_id, _settings(args))
    from ._import_file import run_import_file  # noqa: PLC0415

    return run_import_file(_file_options(args))


def _api_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group(
        "connection (the pool secret is read from $AUTHING_USERPOOL_SECRET only)"
    )
    group.add_argument("--user-pool-id", help="the user pool ($AUTHING_USERPOOL_ID)")
    group.add_argument("--host", help="the API host ($AUTHING_HOST, else core.authing.cn)")
    group.add_argument(
        "--max-retries", type=_count, default=2, help="retries of a failing request (2)"
    )
    group.add_argument(
        "--retry-wait",
        type=_positive_float,
        default=0.5,
        metavar="SECONDS",
        help="bound of the first backoff, doubling on each retry (0.5)",
    )
    return parent


def _add_file_options(
    command: argparse.ArgumentParser, *, what: str, formats: list[str], journal: str | None
) -> argparse._ArgumentGroup:
    """Add the options of a run over a file: --from, --format, the run's pace, and the journal.

    *journal* is what the default journal's name holds after ``FILE.`` (``""`` for
    ``FILE.journal.jsonl``), or ``None`` for a command without a journal.
    """
    group = command.add_argument_group(f"a whole file ({what})")
    group.add_argument(
        "--from", dest="source", type=Path, metavar="FILE", help=f"the {what}; - for stdin"
    )
    group.add_argument("--format", choices=formats, help="default: from the extension or content")
    group.add_argument(
        "--concurrency", type=_positive_int, default=8, help="rows in flight at once (8)"
    )
    group.add_argument(
        "--rate-limit",
        type=_positive_float,
        metavar="RPS",
        help="most requests per second, retries included (no limit)",
    )
    group.add_argument(
        "--dry-run", action="store_true", help="check every row and report; send nothing"
    )
    group.add_argument(
        "--quiet", action="store_true", help="no progress and no per-row lines; the summary"
    )
    if journal is None:
        return group
    infix = journal
    group.add_argument(
        "--journal",
        type=Path,
        metavar="PATH",
        help=f"default: FILE.{infix}journal.jsonl (required with --from -)",
    )
    group.add_argument(
        "--resume",
        action="store_true",
        help="skip the rows the journal shows done; retry every other row",
    )
    group.add_argument(
        "--failures",
        type=Path,
        metavar="PATH",
        help=f"default: FILE.{infix}failures.jsonl (with --from -: JOURNAL.failures.jsonl)",
    )
    group.add_argument(
        "--only",
        type=Path,
        metavar="FAILURES",
        help="run only the rows (line numbers of FILE) a failures file lists; implies --resume",
    )
    return group


def _add_user_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    api: argparse.ArgumentParser,
) -> None:
    status = commands.add_parser(
        "status",
        parents=[api],
        help="show a user's bound MFA factors, or report every listed user's",
        description=(
            "Show one user's bound MFA factors (USER_ID), or write a report of every user a "
            "file lists (--from: CSV with a userId column, JSON Lines with userId, or one id a "
            "line): one row per user, the factors as columns, CSV or JSON Lines."
        ),
    )
    status.add_argument("user_id", metavar="USER_ID", nargs="?", help="one user to show")
    status.add_argument(
        "--json", action="store_true", help="print JSON (with --from: a JSON Lines report)"
    )
    _add_file_options(
        status, what="user ids", formats=["csv", "jsonl", "lines"], journal=None
    ).add_argument(
        "--out",
        type=Path,
        metavar="REPORT",
        help="the report: .csv, or .jsonl for JSON Lines (default, or -: standard output)",
    )
    status.set_defaults(run=_status)

    unbind = commands.add_parser(
        "unbind",
        parents=[api],
        help="unbind a factor from a user, or from every listed user",
        description=(
            "Unbind a factor from one user (USER_ID), or from every user a file lists "
            "(--from: CSV with a userId column, JSON Lines with userId, or one id a line), "
            "after saying how many and asking (--yes: do not ask)."
        ),
    )
    unbind.add_argument("user_id", metavar="USER_ID", nargs="?", help="one user to unbind from")
    unbind.add_argument(
        "--type", required=True, metavar="FACTOR", help="OTP, FACE, SMS, EMAIL, FINGERPRINT"
    )
    _add_file_options(
        unbind, what="user ids", formats=["csv", "jsonl", "lines"], journal="unbind-TYPE."
    ).add_argument(
        "--yes", action="store_true", help="do not ask for confirmation (required with --from -)"
    )
    unbind.set_defaults(run=_unbind)

    bulk = commands.add_parser(
        "import-totp",
        parents=[api],
        help="import TOTP keys: one user's (key on stdin) or a whole file's",
        description=(
            "Import one user's TOTP key (USER_ID; the key from $AUTHING_TOTP_SECRET or "
            "standard input) or every row of a CSV (header userId,secret,recoveryCode) or "
            "JSON Lines file (--from). Keys may be base32 or otpauth://totp/ URIs."
        ),
    )
    bulk.add_argument("user_id", metavar="USER_ID", nargs="?", help="one user to import for")
    _add_file_options(bulk, what="rows to import", formats=["csv", "jsonl"], journal="")
    bulk.set_defaults(run=_import_totp)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="authing-mfa", description="Manage Authing users' MFA, or try it on an emulator."
    )
    parser.add_argument("--version", action="version", version=f"authing-mfa {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="run the SDK against a local emulator: import, status, unbind, errors"
    )
    demo.add_argument("--users", type=_positive_int, default=20, help="sample users (20)")
    demo.set_defaults(run=_demo)

    # Its options are the emulator's own (authing_mfa.testing), parsed by it: see main().
    emulator = commands.add_parser(
        "emulator", help="serve the Authing emulator on loopback", add_help=False
    )
    emulator.set_defaults(run=_emulator)

    _add_user_commands(commands, _api_options())
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be at least 0")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line *argv* (default: ``sys.argv[1:]``); return the exit code."""
    for stream in (sys.stdout, sys.stderr):
        # A user id the terminal's encoding cannot show is escaped, not a crash mid-import.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a closed or detached stream
                reconfigure(errors="backslashreplace")
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "emulator":
        args.emulator_args = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except BrokenPipeError:
        # Whoever read our output left (``| head``): stop quietly, the journal closed, and
        # keep Python from failing again while flushing standard output at exit.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
