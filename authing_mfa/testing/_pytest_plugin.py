"""The pytest plugin: fixtures that put the emulator and clients on it in your tests.

pytest loads it by itself wherever authing-mfa is installed (the ``pytest11`` entry point
``authing_mfa``; ``-p no:authing_mfa`` turns it off). Every name starts with ``authing_``:

- `authing_emulator`: the emulator, in a fresh state (no users, faults or journal);
- `authing_server`: that emulator served on loopback (a `RunningServer`: ``url``,
  ``emulator``);
- `authing_env`: ``AUTHING_HOST``, ``AUTHING_USERPOOL_ID`` and ``AUTHING_USERPOOL_SECRET``
  pointing at that server, for code that builds its own client from the environment;
- `authing_client`: an `MfaClient` on that server, closed after the test;
- `authing_async_client`: an `AsyncMfaClient` on that server, for asyncio or trio under any
  async test plugin, closed after the test;
- the marker ``@pytest.mark.authing_users("alice", "bob")``: creates those users before the
  test (on a test, a class, or a module through ``pytestmark``).

One emulator and one loopback server serve the whole session: each test starts from a fresh
state, and the pool id, secret and URL stay the same from test to test, so a client your
application builds once from the environment keeps working in every test.

This module imports nothing beyond pytest: its fixtures import the emulator and the clients
when a test first asks for one, and build no emulator or server before. (Python imports the
packages above it, ``authing_mfa`` and ``authing_mfa.testing``, with it.)
"""

from __future__ import annotations

__all__ = [
    "authing_async_client",
    "authing_client",
    "authing_emulator",
    "authing_env",
    "authing_server",
]

import contextlib
import sys
from collections.abc import AsyncGenerator, Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest

if TYPE_CHECKING:
    from authing_mfa import AsyncMfaClient, MfaClient, RequestEvent

    from ._emulator import Emulator
    from ._launch import RunningServer

_USERS_MARKER = "authing_users"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``authing_users`` marker, so ``--strict-markers`` knows it."""
    config.addinivalue_line(
        "markers",
        f"{_USERS_MARKER}(*user_ids): create these users in the authing_emulator before the test",
    )


@pytest.fixture(scope="session")
def _authing_session_emulator() -> Emulator:
    from ._emulator import Emulator  # noqa: PLC0415 - loaded only by suites that use it

    return Emulator()


@pytest.fixture(scope="session")
def _authing_session_server(_authing_session_emulator: Emulator) -> Iterator[RunningServer]:
    from ._launch import run_server  # noqa: PLC0415

    with run_server(_authing_session_emulator) as server:
        yield server


@pytest.fixture
def authing_emulator(
    request: pytest.FixtureRequest, _authing_session_emulator: Emulator
) -> Emulator:
    """The emulator of Authing's API, in a fresh state: no users, faults or journal.

    Create users with ``authing_emulator.add_users(["alice"])`` or with the marker
    ``@pytest.mark.authing_users("alice", "bob")`` (on the test, its class or its module; the
    users of every marker that applies are created). Use it in process, no socket::

        mfa = AsyncMfaClient(
            user_pool_id=authing_emulator.user_pool_id,
            secret=authing_emulator.secret,
            transport=authing_emulator.transport(),
            wait_initial=0,
            wait_max=0,
        )

    (that client sends through httpx, whatever the event loop; `authing_async_client` sends
    through the stack your application uses, over loopback).

    It is the session's one emulator, reset before each test (`Emulator.reset`): its pool id,
    secret and signing key are the same in every test, and tokens it issued in an earlier
    test stay valid, as tokens do on Authing. Its tokens last a week; a test that needs
    another lifetime builds its own ``Emulator(token_ttl=...)``.
    """
    emulator = _authing_session_emulator
    emulator.reset()
    for marker in request.node.iter_markers(_USERS_MARKER):
        if marker.kwargs:
            raise TypeError(f"@pytest.mark.{_USERS_MARKER} takes user ids only, not keywords")
        emulator.add_users(marker.args)
    return emulator


@pytest.fixture
def authing_server(
    authing_emulator: Emulator,  # noqa: ARG001 - requested for its fresh state
    _authing_session_server: RunningServer,
) -> RunningServer:
    """`authing_emulator` served over HTTP on loopback: ``.url``, ``.emulator``.

    The server runs in a thread of its own for the whole session (so sync and async tests
    alike can use it) and serves `authing_emulator`, in its fresh state, to each test.
    """
    return _authing_session_server


@pytest.fixture
def authing_env(authing_server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> RunningServer:
    """Point ``AUTHING_HOST``, ``AUTHING_USERPOOL_ID`` and ``AUTHING_USERPOOL_SECRET`` at
    `authing_server` for the test; return the server (``.url``, ``.emulator``).

    An application that builds its client from the environment, ``AsyncMfaClient()`` or
    ``MfaClient()`` with no credentials, then runs against the emulator unchanged, provided
    it builds the client during the test (in a view, a lifespan, an app factory, or a module
    first imported by the test). The values are the same in every test of the session, so a
    client built once keeps working in later tests.
    """  # noqa: D205 - the summary names all three variables
    from authing_mfa._settings import ENV_HOST, ENV_SECRET, ENV_USER_POOL_ID  # noqa: PLC0415

    monkeypatch.setenv(ENV_HOST, authing_server.url)
    monkeypatch.setenv(ENV_USER_POOL_ID, authing_server.emulator.user_pool_id)
    monkeypatch.setenv(ENV_SECRET, authing_server.emulator.secret)
    return authing_server


def _settings(server: RunningServer) -> dict[str, Any]:
    """Return the arguments of a client on *server* that retries at once: tests need not wait."""
    return {
        "host": server.url,
        "user_pool_id": server.emulator.user_pool_id,
        "secret": server.emulator.secret,
        "wait_initial": 0,
        "wait_max": 0,
    }


@pytest.fixture
def authing_client(authing_server: RunningServer) -> Iterator[MfaClient]:
    """An `MfaClient` on `authing_server`, retrying without waiting; closed after the test.

    It sends over loopback through the stack it uses in production. Call it from sync tests
    (it raises `RuntimeError` in a thread that runs an event loop, as always).
    """
    from authing_mfa import MfaClient  # noqa: PLC0415

    with MfaClient(**_settings(authing_server)) as client:
        yield client


@pytest.fixture
def authing_async_client(authing_server: RunningServer) -> Iterator[AsyncMfaClient]:
    """An `AsyncMfaClient` on `authing_server`, retrying without waiting; closed after the test.

    A plain (sync) fixture, so it serves pytest-asyncio (strict or auto mode), anyio's pytest
    plugin with asyncio or trio, or your own ``asyncio.run``/``trio.run``, alike. It sends
    over loopback through the stack it uses in production (aiohttp under asyncio, httpx under
    trio). It opens its connections in the event loop of the test that first uses it, and is
    closed in that loop: after the test if the loop is still open, or else when the loop
    ends. Use it in one event loop per test. For a client on the in-process transport, see
    `authing_emulator`.
    """
    from authing_mfa import AsyncMfaClient  # noqa: PLC0415

    closer = _CloseInItsLoop()
    client = AsyncMfaClient(**_settings(authing_server), on_request=closer.on_request)
    closer.client = client
    yield client
    closer.close()


class _CloseInItsLoop:
    """Closes an `AsyncMfaClient` in the event loop it ran in, asyncio's or trio's.

    A client's connections belong to the loop that opened them, and that loop may be gone by
    the time a sync fixture tears down (anyio's plugin ends it right after the test). So on
    the client's first request in a loop (its ``on_request`` hook runs in the calling task),
    this starts an async generator there, which the loop owns: asyncio and trio close every
    async generator still suspended when they end, and its ``finally`` closes the client in
    that loop. At teardown, a loop still open and idle is asked to do it at once.
    """

    def __init__(self) -> None:
        self.client: AsyncMfaClient | None = None
        self._closers: dict[object, AsyncGenerator[None]] = {}  # loop or trio run -> closer
        self._done: set[object] = set()

    def on_request(self, event: RequestEvent) -> None:  # noqa: ARG002 - any request will do
        loop = _running_loop()
        if loop is None or loop in self._closers:
            return
        closer = self._close_when_loop_ends(loop)
        # Held here until teardown: a generator the loop finds unreferenced is closed early.
        self._closers[loop] = closer
        # The first step runs to the ``yield`` without awaiting anything; taking it here,
        # in the loop's thread, makes the loop (through its async generator hooks) its owner.
        with contextlib.suppress(StopIteration):
            closer.asend(None).send(None)

    async def _close_when_loop_ends(self, loop: object) -> AsyncGenerator[None]:
        try:
            yield
        finally:
            if loop not in self._done and self.client is not None:
                self._done.add(loop)
                await self.client.aclose()

    def close(self) -> None:
        """Close the client now in each loop still open and idle; the others close it later."""
        asyncio = sys.modules.get("asyncio")
        for loop, closer in self._closers.items():
            if loop in self._done or asyncio is None:
                continue
            if not isinstance(loop, asyncio.AbstractEventLoop) or loop.is_running():
                continue  # a trio run or a loop still running: they close it as they end
            if not loop.is_closed():
                loop.run_until_complete(_aclose(closer))
                continue
            # Closed without closing its async generators (not by asyncio.run nor
            # asyncio.Runner): the client can only release that loop's pool from another.
            self._done.add(loop)
            _finish(closer)
            if self.client is not None:
                asyncio.run(self.client.aclose())


async def _aclose(closer: AsyncGenerator[None]) -> None:
    await closer.aclose()


def _finish(closer: AsyncGenerator[None]) -> None:
    """End *closer* outside any loop; its ``finally`` has nothing left to await."""
    with contextlib.suppress(StopIteration):
        closer.aclose().send(None)


def _running_loop() -> object | None:
    """Return the asyncio loop or trio run this thread is running, or None."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            return cast("object", asyncio.get_running_loop())
        except RuntimeError:
            pass
    trio = sys.modules.get("trio")
    if trio is not None and trio.lowlevel.in_trio_run():
        return cast("object", trio.lowlevel.current_trio_token())
    return None
