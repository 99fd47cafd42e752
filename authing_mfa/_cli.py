"""The ``authing-mfa`` command.

Exit codes: 0 success, 1 some work failed, 2 usage or configuration errors.
"""

from __future__ import annotations

__all__ = ["main"]

import argparse
import sys
from collections.abc import Callable, Sequence

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo  # noqa: PLC0415 - each command imports only what it needs

    return run_demo(users=args.users)


def _emulator(args: argparse.Namespace) -> int:
    from .testing import serve  # noqa: PLC0415

    serve(
        host=args.host,
        port=args.port,
        user_pool_id=args.user_pool_id,
        secret=args.secret,
        users=args.users,
        token_ttl=args.token_ttl,
    )
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="authing-mfa", description="Manage Authing users' MFA, or try it on an emulator."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="run the SDK against a local emulator: import, status, unbind, errors"
    )
    demo.add_argument("--users", type=_positive_int, default=20, help="sample users (20)")
    demo.set_defaults(run=_demo)

    emulator = commands.add_parser("emulator", help="serve the Authing emulator on loopback")
    emulator.add_argument("--host", default="127.0.0.1", help="address to listen on")
    emulator.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one")
    emulator.add_argument("--user-pool-id", help="the pool's id (generated when not given)")
    emulator.add_argument("--secret", help="the pool's secret (generated when not given)")
    emulator.add_argument("--users", type=int, default=0, help="users to create")
    emulator.add_argument("--token-ttl", type=float, help="token lifetime in seconds (a week)")
    emulator.set_defaults(run=_emulator)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line *argv* (default: ``sys.argv[1:]``); return the exit code."""
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
