"""The emulator's command line, defined once.

``authing-mfa emulator`` and ``python -m authing_mfa.testing`` both parse their arguments
here, so they accept the same options and read the same variables.
"""

from __future__ import annotations

__all__ = ["main"]

import argparse
import math
import os
import signal
import threading
from collections.abc import Sequence

from ._launch import SECRET_ENV, serve


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m authing_mfa.testing") -> None:
    """Parse *argv* (default: ``sys.argv[1:]``) and serve an emulator until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve an emulator of Authing's management MFA API on this machine.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=8765, help="port; 0 picks a free one")
    parser.add_argument("--user-pool-id", help="the pool's id (generated when not given)")
    parser.add_argument(
        "--secret", help=f"the pool's secret (default ${SECRET_ENV}, else generated)"
    )
    parser.add_argument("--users", type=_count, default=0, help="how many users to create")
    parser.add_argument("--token-ttl", type=_seconds, help="token lifetime in seconds (a week)")
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        # `spawn_server` stops its child with SIGTERM: leave as after Ctrl-C, sockets closed.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(
            host=args.host,
            port=args.port,
            user_pool_id=args.user_pool_id,
            secret=args.secret or os.environ.get(SECRET_ENV) or None,
            users=args.users,
            token_ttl=args.token_ttl,
        )
    except OSError as exc:  # the port is taken, or the address is not this machine's
        parser.exit(2, f"{prog}: error: cannot listen on {args.host}:{args.port}: {exc}\n")


def _port(text: str) -> int:
    value = _int(text)
    if not 0 <= value <= 65535:  # noqa: PLR2004 - the largest TCP port
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, not {value}")
    return value


def _count(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _interrupt(signum: int, frame: object) -> None:  # noqa: ARG001 - a signal handler's shape
    raise KeyboardInterrupt
