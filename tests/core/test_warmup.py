"""A client loads what its first call needs in a thread from the moment it is built."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest
import trio
from support.fakes import POOL_ID, POOL_SECRET

from authing_mfa import AsyncMfaClient
from authing_mfa._warmup import WarmUp, warm_up


def warm_up_threads() -> int:
    return sum(thread.name == "authing-mfa-warm-up" for thread in threading.enumerate())


@pytest.mark.asyncio
async def test_the_warm_up_puts_the_switch_interval_back():
    """The interval it shortens while loading is the one it finds again afterwards."""
    before = sys.getswitchinterval()
    await WarmUp(("_aiohttp", True)).wait()
    assert sys.getswitchinterval() == before


def test_a_warm_up_is_awaited_under_trio_too():
    async def main() -> None:
        await WarmUp(("_httpx", False)).wait()

    trio.run(main)


@pytest.mark.asyncio
async def test_once_loaded_a_new_client_starts_no_thread(server, emulator):
    """What one client loaded, the next finds loaded: no thread, nothing to wait for."""
    options = {"host": server.url, "user_pool_id": emulator.user_pool_id}
    async with AsyncMfaClient(**options, secret=emulator.secret) as first:
        await first.get_status("u1")
    settings = AsyncMfaClient(**options, secret=emulator.secret)._settings
    before = warm_up_threads()
    assert warm_up(settings) is None
    assert warm_up_threads() == before


def test_a_warm_up_that_fails_prints_nothing_and_the_call_raises_a_typed_error():
    """An unreadable CA bundle: the thread says nothing; the first call raises ours."""
    script = textwrap.dedent(
        f"""
        import asyncio
        from authing_mfa import AsyncMfaClient, TransportError

        async def main():
            mfa = AsyncMfaClient(host="https://127.0.0.1:9", user_pool_id={POOL_ID!r},
                                 secret={POOL_SECRET!r}, max_retries=0)
            try:
                await mfa.get_status("u1")
            except TransportError as exc:
                print(type(exc).__name__)
            await mfa.aclose()

        asyncio.run(main())
        """
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"SSL_CERT_FILE": "/nonexistent/ca.pem", "PATH": "/usr/bin:/bin"},
    )
    assert result.stderr == ""
    assert result.stdout.strip() in {"TransportError", "ConnectionError"}
