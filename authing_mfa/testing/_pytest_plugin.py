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
when a test first asks for one, and build no emulator or server before. Python imports the
packages above it with it: ``authing_mfa`` (the clients) and ``authing_mfa.testing``, whose
names load their modules on first use.
"""

from __future__ import annotations

__all__ = [
    "authing_async_client",
    "authing_client",
    "authing_emulator",
    "authing_env",
    "authing_server",
]

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from authing_mfa import AsyncMfaClient, MfaClient

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
    trio). Like any `AsyncMfaClient`, it works in every event loop the test runs it in, each
    with its own connections, closed when that loop ends. After the test it is closed: in
    the test's asyncio loop if that loop outlives the test (a module- or session-scoped
    loop), else in a loop of its own, which has any loop still running close its own
    connections. For a client on the in-process transport, see `authing_emulator`.
    """
    import asyncio  # noqa: PLC0415

    from authing_mfa import AsyncMfaClient  # noqa: PLC0415

    loops: list[asyncio.AbstractEventLoop] = []

    def note_the_loop(_: object) -> None:
        # Hooks run in the task making the call: its loop is the test's.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # trio: a run that outlives the test closes the client as it ends
        if loop not in loops:
            loops.append(loop)

    client = AsyncMfaClient(**_settings(authing_server), on_request=note_the_loop)
    yield client
    idle = [loop for loop in loops if not loop.is_closed() and not loop.is_running()]
    if idle:
        idle[0].run_until_complete(client.aclose())
    else:
        asyncio.run(client.aclose())
