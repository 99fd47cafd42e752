"""The one event loop that runs every `MfaClient`'s calls, in a daemon thread.

It is started on the first blocking call, never at import, and shared by every client and
thread of the process, so a Django process with 32 threads multiplexes its calls on one loop
and one connection pool per client. The thread is a daemon: a process that never closes its
clients still exits promptly. A forked child (gunicorn ``--preload``, Celery prefork) forgets
the parent's loop, whose thread did not survive the fork, and starts its own on first use.

anyio starts the loop (asyncio); each call then crosses to it with
`asyncio.run_coroutine_threadsafe` rather than through an anyio `BlockingPortal`, whose
per-call task group and cancel scope cost about twice as much (235 against 124 µs per empty
call on a 2-core machine), which is most of what a blocking call costs over raw httpx.
"""

from __future__ import annotations

__all__ = ["call", "close_at_exit", "start"]

import atexit
import os
import sys
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

# asyncio and anyio are imported when the loop starts, not with the package: together they
# are half the time `import authing_mfa` would otherwise take.
if TYPE_CHECKING:
    import asyncio
    import concurrent.futures

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None

# How long interpreter exit waits for each client's connections to close.
_EXIT_CLOSE_TIMEOUT = 2.0


class _Closable(Protocol):
    async def aclose(self) -> None: ...


_open: weakref.WeakSet[_Closable] = weakref.WeakSet()


def close_at_exit(client: _Closable) -> None:
    """Close *client* on the shared loop when the interpreter exits, if it is still alive.

    Blocking callers rarely close a module-level client; without this, its connections would
    be torn down unclosed at exit, and aiohttp reports each one on stderr.
    """
    _open.add(client)


@atexit.register
def _close_open_clients() -> None:
    loop = _loop
    if loop is None:
        return
    import asyncio  # noqa: PLC0415 - loaded, since the loop runs

    for client in list(_open):
        future = asyncio.run_coroutine_threadsafe(client.aclose(), loop)
        try:
            future.result(timeout=_EXIT_CLOSE_TIMEOUT)
        except BaseException:  # noqa: BLE001 - exit goes on, whatever one client does
            future.cancel()


def call(func: Callable[..., Awaitable[T]], *args: object, **kwargs: object) -> T:
    """Run ``func(*args, **kwargs)`` on the shared loop and block until it returns or raises.

    If the waiting thread is interrupted (``KeyboardInterrupt``), the call is cancelled on
    the loop, so nothing keeps running on behalf of a caller that has gone.

    Raises:
        RuntimeError: the calling thread is running an event loop, which blocking would stall.
    """
    future = start(func, *args, **kwargs)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


def start(
    func: Callable[..., Awaitable[T]], *args: object, **kwargs: object
) -> concurrent.futures.Future[T]:
    """Start ``func(*args, **kwargs)`` on the shared loop and return its future at once.

    Cancelling the future cancels the task on the loop.

    Raises:
        RuntimeError: the calling thread is running an event loop, as for `call`.
    """
    if (library := _running_async_library()) is not None:
        raise RuntimeError(
            f"MfaClient blocks, and this thread is running a {library} event loop: "
            "use AsyncMfaClient and await its methods instead"
        )
    import asyncio  # noqa: PLC0415 - already loaded by _get_loop's thread

    loop = _get_loop()
    awaitable = func(*args, **kwargs)
    coroutine = awaitable if asyncio.iscoroutine(awaitable) else _as_coroutine(awaitable)
    return asyncio.run_coroutine_threadsafe(coroutine, loop)


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _get_loop() -> asyncio.AbstractEventLoop:
    global _loop  # noqa: PLW0603 - one loop per process is the point
    loop = _loop
    if loop is not None:
        return loop
    with _lock:
        if _loop is None:
            _loop = _start()
        return _loop


def _start() -> asyncio.AbstractEventLoop:
    import asyncio  # noqa: PLC0415 - see the imports above

    import anyio  # noqa: PLC0415

    started = threading.Event()
    box: list[asyncio.AbstractEventLoop | BaseException] = []

    async def serve() -> None:
        box.append(asyncio.get_running_loop())
        started.set()
        await anyio.sleep_forever()

    def run() -> None:
        try:
            anyio.run(serve, backend="asyncio")
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits
            box.append(exc)
            started.set()

    threading.Thread(target=run, name="authing-mfa-loop", daemon=True).start()
    started.wait()
    result = box[0]
    if isinstance(result, BaseException):  # pragma: no cover - anyio failed to start a loop
        raise result
    return result


def _running_async_library() -> str | None:
    # No loop can run in a process that has not imported its library.
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            return "asyncio"
    trio = sys.modules.get("trio")
    if trio is not None and trio.lowlevel.in_trio_run():
        return "trio"
    return None


def _forget_after_fork() -> None:
    global _loop, _lock, _open  # noqa: PLW0603
    _loop = None
    _lock = threading.Lock()
    # The parent's clients belong to the parent's loop; the child closes only its own.
    _open = weakref.WeakSet()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
