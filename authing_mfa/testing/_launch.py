"""Launching the emulator as a real server: blocking (`serve`), in a thread, or in a subprocess.

All three serve `Emulator.app` with `LoopbackServer`, so a test, a benchmark and a person at
a terminal all meet the same behaviour, dropped connections included.
"""

from __future__ import annotations

__all__ = ["RunningServer", "SpawnedServer", "run_server", "serve", "spawn_server"]

import asyncio
import contextlib
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import attrs

from ._asgi import ASGIApp
from ._control_client import EmulatorControl
from ._emulator import DEFAULT_TOKEN_TTL, Emulator
from ._http_server import LoopbackServer
from ._ids import new_object_id, new_secret

# How a spawned server gets its secret: through the environment, not the command line,
# which every user of the machine can read in the process list.
SECRET_ENV = "AUTHING_MFA_EMULATOR_SECRET"  # noqa: S105 - a variable's name
_LISTENING = "Authing MFA emulator listening on "


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    user_pool_id: str | None = None,
    secret: str | None = None,
    users: int = 0,
    token_ttl: float | None = None,
) -> None:
    """Serve an emulator on *host*:*port* until interrupted (Ctrl-C); the CLI's entry point.

    It prints, to standard output, the URL, the pool id and secret to configure a client
    with, and the ids of the *users* it created. The secret is printed on purpose: it is the
    emulator's, and the person who started it needs it.

    Args:
        host: the address to listen on.
        port: the port; 0 picks a free one (printed).
        user_pool_id: the pool's id; generated when not given.
        secret: the pool's secret; generated when not given.
        users: how many users to create, with generated ids.
        token_ttl: the tokens' lifetime in seconds; a week when not given.
    """
    emulator = Emulator(
        user_pool_id, secret, token_ttl=DEFAULT_TOKEN_TTL if token_ttl is None else token_ttl
    )
    user_ids = emulator.create_users(users)

    async def main() -> None:
        server = LoopbackServer(emulator.app, host, port)
        await server.start()
        _print_banner(server.url, emulator, user_ids)
        try:
            await asyncio.Event().wait()
        finally:
            await server.aclose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def _print_banner(url: str, emulator: Emulator, user_ids: list[str]) -> None:
    lines = [
        f"{_LISTENING}{url}",
        f"  host:          {url}",
        f"  user pool id:  {emulator.user_pool_id}",
        f"  secret:        {emulator.secret}",
        f"  token ttl:     {emulator.token_ttl:g} s",
        f"  users ({len(user_ids)}):",
        *(f"    {user_id}" for user_id in user_ids),
        "For a client, in a POSIX shell:",
        (
            f"  export AUTHING_HOST={url} AUTHING_USERPOOL_ID={emulator.user_pool_id} "
            f"AUTHING_USERPOOL_SECRET={emulator.secret}"
        ),
        f"Control API under {url}/__emulator__/ (see `python -m pydoc authing_mfa.testing`).",
        "Press Ctrl-C to stop.",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


@attrs.frozen
class RunningServer:
    """A server `run_server` started in a thread of this process."""

    url: str
    """Its base URL, e.g. ``http://127.0.0.1:54321``."""
    host: str
    port: int
    emulator: Emulator
    """The state it serves; drive it directly, from any thread."""


class _ServerThread:
    """One `LoopbackServer` in a daemon thread with its own event loop."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.server = LoopbackServer(app, host, port)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="authing-mfa-emulator", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # noqa: BLE001 - handed to the starting thread
            self._error = error
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await self.server.start()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.aclose()


@contextlib.contextmanager
def run_server(
    emulator: Emulator | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningServer]:
    """Serve *emulator* (a new one when not given) on loopback in a daemon thread.

    ::

        with run_server(Emulator(users=["alice"])) as server:
            httpx.get(f"{server.url}/api/v2/users/alice/mfa-bound")

    The server has its own event loop, so it serves sync and async tests alike. On exit it
    stops accepting, aborts open connections, and its thread ends before this returns.

    Args:
        emulator: the state to serve.
        host: the address to listen on.
        port: the port; 0 (the default) picks a free one.

    Raises:
        OSError: the address could not be bound.
    """
    emulator = Emulator() if emulator is None else emulator
    thread = _ServerThread(emulator.app, host, port)
    thread.start()
    try:
        yield RunningServer(
            url=thread.server.url, host=host, port=thread.server.port, emulator=emulator
        )
    finally:
        thread.stop()


@attrs.frozen
class SpawnedServer:
    """A server `spawn_server` started in a child process."""

    url: str
    """Its base URL, e.g. ``http://127.0.0.1:54321``."""
    user_pool_id: str
    secret: str = attrs.field(repr=False)
    user_ids: list[str]
    """The ids of the users created at start."""
    control: EmulatorControl
    """Drives the child's emulator: the methods of `Emulator`, over HTTP."""
    pid: int


@contextlib.contextmanager
def spawn_server(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    user_pool_id: str | None = None,
    secret: str | None = None,
    users: int = 0,
    token_ttl: float | None = None,
    startup_timeout: float = 30.0,
) -> Iterator[SpawnedServer]:
    """Serve an emulator from a child process (``python -m authing_mfa.testing``).

    For benchmarks and load tests, where the server must not share this process's GIL. On
    exit the child is interrupted as by Ctrl-C, and killed if it has not ended 5 s later.

    Args:
        host: the address to listen on.
        port: the port; 0 (the default) picks a free one.
        user_pool_id: the pool's id; generated when not given.
        secret: the pool's secret; generated when not given.
        users: how many users to create, with generated ids.
        token_ttl: the tokens' lifetime in seconds; a week when not given.
        startup_timeout: seconds to wait for the child to listen.

    Raises:
        RuntimeError: the child ended or did not listen within *startup_timeout*.
    """
    user_pool_id = user_pool_id or new_object_id()
    secret = secret or new_secret()
    command = [sys.executable, "-m", "authing_mfa.testing", "--host", host, "--port", str(port)]
    command += ["--user-pool-id", user_pool_id]
    if token_ttl is not None:
        command += ["--token-ttl", repr(float(token_ttl))]
    # The child imports this very copy of the package, installed or not.
    package_root = str(Path(__file__).resolve().parents[2])
    python_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, SECRET_ENV: secret, "PYTHONPATH": python_path, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
        encoding="utf-8",
    ) as process:
        try:
            assert process.stdout is not None  # noqa: S101 - stdout=PIPE
            url = _wait_for_url(process.stdout, startup_timeout)
            if url is None:
                raise RuntimeError(
                    f"the emulator subprocess did not start (exit code {process.poll()})"
                )
            with EmulatorControl(url) as control:
                user_ids = control.create_users(users) if users else []
                yield SpawnedServer(
                    url=url,
                    user_pool_id=user_pool_id,
                    secret=secret,
                    user_ids=user_ids,
                    control=control,
                    pid=process.pid,
                )
        finally:
            _stop(process)


def _wait_for_url(stdout: IO[str], timeout: float) -> str | None:
    # A thread reads, so the wait can time out on every platform (no select() on Windows
    # pipes); it ends at the banner line or when the child's stdout closes.
    found: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stdout:
            if line.startswith(_LISTENING):
                found.put(line[len(_LISTENING) :].strip())
                return
        found.put(None)

    threading.Thread(target=read, name="authing-mfa-emulator-banner", daemon=True).start()
    try:
        return found.get(timeout=timeout)
    except queue.Empty:
        return None


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        # SIGTERM, which the child turns into the same clean stop as Ctrl-C (see _command):
        # unlike SIGINT, no shell starts a background job with it ignored.
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
