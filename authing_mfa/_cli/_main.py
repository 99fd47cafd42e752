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

from authing_mfa._version import __version__

from ._exit import EXIT_FAILED, EXIT_OK, EXIT_USAGE


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


def _status(args: argparse.Namespace) -> int:
    from ._one_user import status  # noqa: PLC0415

    return status(args.user_id, _settings(args), as_json=args.json)


def _unbind(args: argparse.Namespace) -> int:
    from ._one_user import unbind  # noqa: PLC0415

    return unbind(args.user_id, args.type, _settings(args))


# The options that only make sense with --from, and their defaults.
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
}


def _import_totp(args: argparse.Namespace) -> int:
    if (args.user_id is None) == (args.source is None):
        sys.stderr.write(
            "authing-mfa import-totp: error: give either USER_ID (key on stdin or in "
            "$AUTHING_TOTP_SECRET) or --from FILE\n"
        )
        return EXIT_USAGE
    if args.user_id is not None:
        given = [name for name, default in _FILE_OPTIONS.items() if getattr(args, name) != default]
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            sys.stderr.write(
                f"authing-mfa import-totp: error: {flags} apply to --from FILE only, "
                "not to one USER_ID\n"
            )
            return EXIT_USAGE
        from ._one_user import import_one  # noqa: PLC0415

        return import_one(args.user_id, _settings(args))
    from ._import_file import ImportOptions, run_import_file  # noqa: PLC0415

    options = ImportOptions(
        source=None if str(args.source) == "-" else args.source,
        file_format=args.format,
        journal=args.journal,
        failures=args.failures,
        only=args.only,
        resume=args.resume,
        dry_run=args.dry_run,
        quiet=args.quiet,
        concurrency=args.concurrency,
        rate_limit=args.rate_limit,
        client=_settings(args),
    )
    return run_import_file(options)


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


def _add_user_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    api: argparse.ArgumentParser,
) -> None:
    status = commands.add_parser("status", parents=[api], help="show a user's bound MFA factors")
    status.add_argument("user_id", metavar="USER_ID")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(run=_status)

    unbind = commands.add_parser("unbind", parents=[api], help="unbind a factor from a user")
    unbind.add_argument("user_id", metavar="USER_ID")
    unbind.add_argument(
        "--type", required=True, metavar="FACTOR", help="OTP, FACE, SMS, EMAIL, FINGERPRINT"
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
    bulk.add_argument(
        "--from", dest="source", type=Path, metavar="FILE", help="rows to import; - for stdin"
    )
    bulk.add_argument("--format", choices=["csv", "jsonl"], help="default: from the extension")
    bulk.add_argument(
        "--concurrency", type=_positive_int, default=8, help="rows in flight at once (8)"
    )
    bulk.add_argument(
        "--rate-limit",
        type=_positive_float,
        metavar="RPS",
        help="most requests per second, retries included (no limit)",
    )
    bulk.add_argument(
        "--journal",
        type=Path,
        metavar="PATH",
        help="default: FILE.journal.jsonl (required with --from -)",
    )
    bulk.add_argument(
        "--resume",
        action="store_true",
        help="skip the rows the journal shows imported; retry every other row",
    )
    bulk.add_argument(
        "--failures",
        type=Path,
        metavar="PATH",
        help="default: FILE.failures.jsonl (with --from -: JOURNAL.failures.jsonl)",
    )
    bulk.add_argument(
        "--only",
        type=Path,
        metavar="FAILURES",
        help="import only the rows (line numbers of FILE) a failures file lists; implies --resume",
    )
    bulk.add_argument(
        "--dry-run", action="store_true", help="check every row and report; send nothing"
    )
    bulk.add_argument(
        "--quiet", action="store_true", help="no progress and no per-row lines; the summary"
    )
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
