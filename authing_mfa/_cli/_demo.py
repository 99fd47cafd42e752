"""``authing-mfa demo``: the whole SDK at work against the emulator, with nothing configured.

It starts `authing_mfa.testing` on loopback, then, through the public `AsyncMfaClient` only:
imports TOTP keys for a batch of sample users, shows their status, unbinds one (a support
agent resetting a lost phone), rides out an injected gateway failure, handles an unknown user,
and prints a summary with timings. No key or secret is printed.
"""

from __future__ import annotations

__all__ = ["run_demo"]

import base64
import os
import sys
import time
from typing import TYPE_CHECKING, TextIO

import anyio

from authing_mfa._async_client import AsyncMfaClient
from authing_mfa._errors import NotFoundError
from authing_mfa._models import MfaType

if TYPE_CHECKING:
    from authing_mfa.testing import Emulator


def run_demo(users: int = 20, out: TextIO = sys.stdout) -> int:
    """Run the demo, writing to *out*; return the process exit code (0 when all went well)."""
    from authing_mfa.testing import Emulator, run_server  # noqa: PLC0415 - only the demo needs it

    emulator = Emulator()
    user_ids = emulator.add_users(f"demo-user-{n:03d}" for n in range(1, users + 1))
    with run_server(emulator) as server:
        out.write(f"Authing emulator on {server.url} (user pool {emulator.user_pool_id})\n\n")
        return anyio.run(_tour, server.url, emulator, user_ids, out)


async def _tour(host: str, emulator: Emulator, user_ids: list[str], out: TextIO) -> int:
    timings: dict[str, float] = {}
    async with AsyncMfaClient(
        host=host,
        user_pool_id=emulator.user_pool_id,
        secret=emulator.secret,
        wait_initial=0.05,
    ) as mfa:
        started = time.perf_counter()
        async with anyio.create_task_group() as tasks:
            for user_id in user_ids:
                key = base64.b32encode(os.urandom(20)).decode()
                tasks.start_soon(mfa.import_totp, user_id, key)
        timings[f"import_totp x {len(user_ids)}, concurrently"] = time.perf_counter() - started
        out.write(f"1. Imported a TOTP key for each of {len(user_ids)} users.\n")

        started = time.perf_counter()
        statuses = [await mfa.get_status(user_id) for user_id in user_ids]
        timings[f"get_status x {len(user_ids)}, one by one"] = time.perf_counter() - started
        bound = sum(status.otp for status in statuses)
        out.write(f"2. Their status: OTP bound for {bound} of {len(statuses)}.\n")
        for user_id, status in list(zip(user_ids, statuses, strict=True))[:3]:
            out.write(f"     {user_id}: OTP={status.otp} FACE={status.face}\n")

        lost_phone = user_ids[0]
        started = time.perf_counter()
        await mfa.unassociate_mfa(lost_phone, MfaType.OTP)
        after = await mfa.get_status(lost_phone)
        timings["unassociate_mfa + get_status"] = time.perf_counter() - started
        out.write(f"3. Unbound OTP from {lost_phone} (lost phone): now OTP={after.otp}.\n")

        emulator.add_fault(method="GET", path="/api/v2/users/*/mfa-bound", status=503, times=1)
        started = time.perf_counter()
        recovered = await mfa.get_status(user_ids[1])
        timings["get_status through one 503"] = time.perf_counter() - started
        out.write(f"4. The gateway answered 503 once; the client retried: OTP={recovered.otp}.\n")

        try:
            await mfa.get_status("no-such-user")
        except NotFoundError as error:
            out.write(f"5. An unknown user raises NotFoundError: {error}\n")
        else:  # pragma: no cover - the emulator knows no such user
            out.write("5. An unknown user was found: the emulator is misbehaving.\n")
            return 1

    out.write("\nTimings:\n")
    out.writelines(f"  {what:<40} {s * 1000:8.1f} ms\n" for what, s in timings.items())
    ok = bound == len(user_ids) and not after.otp and recovered.otp
    out.write("\nAll steps succeeded.\n" if ok else "\nSome steps went wrong.\n")
    return 0 if ok else 1
