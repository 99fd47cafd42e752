"""The one-user commands: ``status``, ``unbind`` and ``import-totp USER_ID``.

``import-totp USER_ID`` reads the key from ``$AUTHING_TOTP_SECRET`` or standard input (a
prompt that does not echo on a terminal), never from a flag, which would land in the shell's
history and the process list; the optional recovery code comes from
``$AUTHING_TOTP_RECOVERY_CODE`` or the second line of standard input.
"""

from __future__ import annotations

__all__ = ["ENV_TOTP_RECOVERY_CODE", "ENV_TOTP_SECRET", "import_one", "status", "unbind"]

import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO, TypeVar

import anyio

from authing_mfa._async_client import AsyncMfaClient
from authing_mfa._bulk_rows import TotpRecord, check_record
from authing_mfa._errors import AuthingMfaError, InvalidArgumentError

from ._exit import EXIT_FAILED, EXIT_OK, EXIT_USAGE, cli_message

ENV_TOTP_SECRET = "AUTHING_TOTP_SECRET"  # noqa: S105 - a variable's name
ENV_TOTP_RECOVERY_CODE = "AUTHING_TOTP_RECOVERY_CODE"

T = TypeVar("T")


def _run(
    command: str,
    settings: dict[str, object],
    call: Callable[[AsyncMfaClient], Awaitable[T]],
    err: TextIO,
) -> tuple[int, T | None]:
    """Build the client and run *call*; map our errors to exit codes and one line on *err*."""
    try:
        client = AsyncMfaClient(**settings)  # type: ignore[arg-type]
    except AuthingMfaError as exc:
        err.write(f"authing-mfa {command}: error: {cli_message(exc)}\n")
        return EXIT_USAGE, None

    async def main() -> T:
        async with client:
            return await call(client)

    try:
        return EXIT_OK, anyio.run(main)
    except InvalidArgumentError as exc:
        err.write(f"authing-mfa {command}: error: {exc}\n")
        return EXIT_USAGE, None
    except AuthingMfaError as exc:
        err.write(f"authing-mfa {command}: failed: {type(exc).__name__}: {exc}\n")
        return EXIT_FAILED, None


def status(
    user_id: str,
    settings: dict[str, object],
    *,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print which factors *user_id* has bound; return the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    code, result = _run("status", settings, lambda mfa: mfa.get_status(user_id), err)
    if result is None:
        return code
    factors = dict(sorted(result.factors.items()))
    if as_json:
        out.write(json.dumps({"userId": user_id, "factors": factors}) + "\n")
    else:
        out.write(f"{user_id}\n")
        out.writelines(
            f"  {name:<12} {'bound' if bound else 'not bound'}\n" for name, bound in factors.items()
        )
    return code


def unbind(
    user_id: str,
    mfa_type: str,
    settings: dict[str, object],
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Unbind the factor *mfa_type* from *user_id*; return the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    code, result = _run("unbind", settings, lambda mfa: mfa.unassociate_mfa(user_id, mfa_type), err)
    if result:
        out.write(f"unbound {mfa_type.upper()} from {user_id}\n")
    return code


def import_one(
    user_id: str,
    settings: dict[str, object],
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Import one key for *user_id*, read from the environment or *stdin*; return the exit code."""
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    secret = os.environ.get(ENV_TOTP_SECRET)
    recovery_code = os.environ.get(ENV_TOTP_RECOVERY_CODE) or None
    if not secret:
        if stdin.isatty():
            secret = getpass.getpass("TOTP key (base32 or otpauth:// URI): ", stream=err)
        else:
            lines = stdin.read().splitlines()
            secret = lines[0].strip() if lines else ""
            if recovery_code is None and len(lines) > 1 and lines[1].strip():
                recovery_code = lines[1].strip()
    try:
        record = check_record(TotpRecord(user_id, secret, recovery_code))
    except InvalidArgumentError as exc:
        err.write(
            f"authing-mfa import-totp: error: {exc} (give the key in ${ENV_TOTP_SECRET} "
            "or on standard input)\n"
        )
        return EXIT_USAGE
    code, result = _run(
        "import-totp",
        settings,
        lambda mfa: mfa.import_totp(
            record.user_id, record.secret, recovery_code=record.recovery_code
        ),
        err,
    )
    if result is not None:
        out.write(f"imported a TOTP key for {result.user_id} (authenticator {result.id})\n")
    return code
