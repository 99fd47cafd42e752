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
from typing import BinaryIO, TextIO, TypeVar

import anyio

from authing_mfa._async_client import AsyncMfaClient
from authing_mfa._bulk_rows import RowNames, TotpRecord, check_record
from authing_mfa._errors import AuthingMfaError, InvalidArgumentError
from authing_mfa._validation import check_mfa_type, check_user_id

from ._exit import EXIT_FAILED, EXIT_OK, EXIT_USAGE, cli_message

ENV_TOTP_SECRET = "AUTHING_TOTP_SECRET"  # noqa: S105 - a variable's name
ENV_TOTP_RECOVERY_CODE = "AUTHING_TOTP_RECOVERY_CODE"

T = TypeVar("T")
# How this command's messages name what it was given: its own argument, and where keys come from.
ONE_USER_NAMES = RowNames("USER_ID", "the TOTP key", "the recovery code")
# The most standard input may hold: a key and a recovery code, with room to spare.
_MAX_STDIN = 64 * 1024


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
    try:
        check_user_id(user_id, "USER_ID")
    except InvalidArgumentError as exc:
        err.write(f"authing-mfa status: error: {exc}\n")
        return EXIT_USAGE
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
    try:
        check_user_id(user_id, "USER_ID")
        check_mfa_type(mfa_type, "--type")
    except InvalidArgumentError as exc:
        err.write(f"authing-mfa unbind: error: {exc}\n")
        return EXIT_USAGE
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
            lines = _read_stdin(stdin)
            if lines is None:
                err.write(
                    "authing-mfa import-totp: error: standard input is not UTF-8 text, or "
                    f"longer than {_MAX_STDIN} bytes: give the key as its first line\n"
                )
                return EXIT_USAGE
            secret = lines[0].strip() if lines else ""
            if recovery_code is None and len(lines) > 1 and lines[1].strip():
                recovery_code = lines[1].strip()
    try:
        record = check_record(TotpRecord(user_id, secret, recovery_code), ONE_USER_NAMES)
    except InvalidArgumentError as exc:
        where = (
            ""
            if str(exc).startswith("USER_ID")
            else f" (give the key in ${ENV_TOTP_SECRET} or on standard input)"
        )
        err.write(f"authing-mfa import-totp: error: {exc}{where}\n")
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


def _read_stdin(stdin: TextIO) -> list[str] | None:
    """Return the lines of *stdin*, or ``None`` if they are not UTF-8 text or too long."""
    raw: BinaryIO | None = getattr(stdin, "buffer", None)
    text: str
    try:
        if raw is not None:
            data = raw.read(_MAX_STDIN + 1)
            if len(data) > _MAX_STDIN:
                return None
            text = data.decode("utf-8-sig")
        else:
            text = stdin.read(_MAX_STDIN + 1)
            if len(text) > _MAX_STDIN:
                return None
    except UnicodeDecodeError:
        return None
    return text.splitlines()
