"""The async client under `trio.run`, over real sockets to the emulator served on loopback."""

from __future__ import annotations

import time

import pytest
from support.clients import client_options

from authing_mfa import AsyncMfaClient, NotFoundError

trio = pytest.importorskip("trio")

TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def test_the_three_operations_under_trio_run(server):
    """Import, status from twenty tasks of a nursery, and unbind all work under trio."""
    statuses = []

    async def main():
        async with AsyncMfaClient(**client_options(server)) as mfa:
            totp = await mfa.import_totp("alice", TOTP_SECRET)

            async def status():
                statuses.append(await mfa.get_status("alice"))

            async with trio.open_nursery() as nursery:
                for _ in range(20):
                    nursery.start_soon(status)
            return totp, await mfa.unassociate_mfa("alice", "otp")

    totp, unbound = trio.run(main)
    assert totp.user_id == "alice"
    assert [status.otp for status in statuses] == [True] * 20
    assert unbound is True
    assert server.emulator.user("alice")["totp"] is None
    assert server.emulator.token_requests == 1


def test_errors_are_raised_under_trio(server):
    """An unknown user raises NotFoundError under trio as under asyncio."""

    async def main():
        async with AsyncMfaClient(**client_options(server)) as mfa:
            await mfa.get_status("nobody")

    with pytest.raises(NotFoundError):
        trio.run(main)


def test_a_trio_cancel_scope_stops_a_stalled_call_and_the_client_recovers(server):
    """move_on_after cancels a call the server stalls, and the next call succeeds."""
    server.emulator.add_fault(path="/api/*", method="GET", delay=5)

    async def main():
        async with AsyncMfaClient(**client_options(server)) as mfa:
            started = time.monotonic()
            with trio.move_on_after(0.2):
                await mfa.get_status("bob")
            waited = time.monotonic() - started
            return waited, await mfa.get_status("bob")

    waited, status = trio.run(main)
    assert waited < 2
    assert status.otp is False
