"""One AsyncMfaClient serves any event loop: in turn, at once, asyncio and trio alike."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import anyio
import pytest
import trio
from support.netstat import connections_to

from authing_mfa import AsyncMfaClient, AuthenticationError
from authing_mfa._loops import Clock, time_reader
from authing_mfa.testing import Emulator, run_server

# A client built once, at module level, as an application would; bound to this module's
# loopback server on first use of the `shared` fixture.
SHARED: dict[str, AsyncMfaClient] = {}


@pytest.fixture(scope="module")
def shared_server():
    with run_server(Emulator(users=["u1"])) as running:
        yield running


def client_for(server, **options) -> AsyncMfaClient:
    return AsyncMfaClient(
        host=server.url,
        user_pool_id=server.emulator.user_pool_id,
        secret=server.emulator.secret,
        wait_initial=0.01,
        **options,
    )


@pytest.fixture
def shared(shared_server):
    if "client" not in SHARED:
        SHARED["client"] = client_for(shared_server)
    return SHARED["client"]


@pytest.mark.asyncio
async def test_a_module_level_client_serves_one_test_loop(shared):
    """pytest-asyncio gives each test a loop of its own; the first one uses the client..."""
    assert not (await shared.get_status("u1")).otp


@pytest.mark.asyncio
async def test_a_module_level_client_serves_the_next_test_loop(shared):
    """...and the next test's loop uses it too, after the first loop has closed."""
    assert not (await shared.get_status("u1")).otp


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["trio", "asyncio"])
async def test_a_module_level_client_serves_trio_and_asyncio_in_turn(shared, anyio_backend):
    """The same client answers under trio, then under asyncio, in one process."""
    assert not (await shared.get_status("u1")).otp


@pytest.mark.slow
def test_a_thousand_asyncio_runs_share_one_client_without_leaks(server, emulator):
    """1 000 ``asyncio.run`` calls on one client: one token, a handful of sockets, no warning."""
    mfa = client_for(server)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(1000):
            assert not asyncio.run(mfa.get_status("u1")).otp
        gc.collect()
    assert [str(warning.message) for warning in caught] == []
    assert emulator.token_requests == 1
    open_sockets = connections_to(server.port)
    assert open_sockets is None or open_sockets <= 4


def test_threads_whose_loops_race_on_a_cold_client_all_finish(server, emulator):
    """Eight threads, each with its own loop, make their first calls at once: none hangs."""
    mfa = client_for(server, total_timeout=10)
    start = threading.Barrier(8)
    results: list[object] = []

    def worker() -> None:
        async def calls() -> list[bool]:
            start.wait()
            statuses = await asyncio.gather(*(mfa.get_status("u1") for _ in range(20)))
            return [status.otp for status in statuses]

        try:
            results.append(asyncio.run(calls()))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hangs"
    assert results == [[False] * 20] * 8
    assert 1 <= emulator.token_requests <= 8  # one fetch per loop at most


def test_a_client_used_by_a_trio_run_then_asyncio_runs_is_closed_once(server, emulator):
    """aclose() in one loop closes that loop's pool; a later call anywhere says it is closed."""
    mfa = client_for(server)
    trio.run(mfa.get_status, "u1")
    asyncio.run(mfa.get_status("u1"))

    async def close_and_call() -> None:
        await mfa.get_status("u1")
        await mfa.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await mfa.get_status("u1")

    asyncio.run(close_and_call())
    with pytest.raises(RuntimeError, match="closed"):
        trio.run(mfa.get_status, "u1")


def test_closing_from_one_thread_releases_a_loop_running_in_another(server, emulator):
    """A loop still running in another thread has its pool closed there, without warnings."""
    mfa = client_for(server)
    used, closed = threading.Event(), threading.Event()

    async def other_loop() -> None:
        await mfa.get_status("u1")
        used.set()
        await asyncio.to_thread(closed.wait, 10)
        await asyncio.sleep(0.1)  # the close scheduled in this loop runs meanwhile

    thread = threading.Thread(target=asyncio.run, args=(other_loop(),))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        thread.start()
        assert used.wait(10)
        asyncio.run(mfa.aclose())
        closed.set()
        thread.join(10)
        gc.collect()
    assert [str(warning.message) for warning in caught] == []


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_concurrent_first_calls_in_one_loop_share_one_refused_token_fetch(
    server, emulator, anyio_backend
):
    """Twenty calls with a wrong secret wait on one token fetch and share its refusal."""
    emulator.reset()
    async with AsyncMfaClient(
        host=server.url, user_pool_id=emulator.user_pool_id, secret="wrong-secret"
    ) as mfa:

        async def call() -> None:
            with pytest.raises(AuthenticationError):
                await mfa.get_status("u1")

        async with anyio.create_task_group() as tasks:
            for _ in range(20):
                tasks.start_soon(call)
    assert emulator.token_requests == 1


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["AsyncMfaClient", "MfaClient"])
def test_a_client_dropped_without_closing_prints_nothing(server, emulator, kind):
    """A client garbage-collected unclosed leaves no "Unclosed" message on standard error."""
    script = textwrap.dedent(
        f"""
        import asyncio, gc
        from authing_mfa import AsyncMfaClient, MfaClient

        options = dict(host={server.url!r}, user_pool_id={emulator.user_pool_id!r},
                       secret={emulator.secret!r})

        def throwaway_sync():
            MfaClient(**options).get_status("u1")

        async def throwaway_async():
            await AsyncMfaClient(**options).get_status("u1")
            gc.collect()
            await asyncio.sleep(0.05)

        if {kind!r} == "MfaClient":
            throwaway_sync()
            gc.collect()
        else:
            asyncio.run(throwaway_async())
        print("done")
        """
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-W", "always", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == "done"
    assert result.stderr == ""


def test_an_asyncio_loop_is_timed_on_the_monotonic_clock_itself():
    """asyncio's own loops are read through time.monotonic; a loop with its own clock is not."""

    class OwnClock(asyncio.SelectorEventLoop):
        def time(self) -> float:
            return 1000.0 + super().time()

    for loop, expected in ((asyncio.new_event_loop(), time.monotonic), (OwnClock(), None)):
        try:
            read = time_reader(loop)
            if expected is None:
                assert read == loop.time
                clock = Clock(read)
                assert abs(clock.now() - time.monotonic()) < 1.0  # shifted onto the shared scale
            else:
                assert read is expected
        finally:
            loop.close()
