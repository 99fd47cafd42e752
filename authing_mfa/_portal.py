"""The one event loop that runs every `MfaClient`'s calls, in a daemon thread.

It is started on the first blocking call, never at import, and shared by every client and
thread of the process, so a Django process with 32 threads multiplexes its calls on one loop
and one connection pool per client. The thread is a daemon: a process that never closes its
clients still exits promptly. A forked child (gunicorn ``--preload``, Celery prefork) forgets
the parent's loop, whose thread did not survive the fork, and starts its own on first use.
"""

from __future__ import annotations

__all__ = ["call", "start"]

import asyncio
import concurrent.futures
import functools
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
from anyio.from_thread import BlockingPortal

T = TypeVar("T")

_lock = threading.Lock()
_portal: BlockingPortal | None = None


def call(func: Callable[..., Awaitable[T]], *args: object, **kwargs: object) -> T:
    """Run ``func(*args, **kwargs)`` on the shared loop and block until it returns or raises.

    If the waiting thread is interrupted (``KeyboardInterrupt``), the call is cancelled on
    the loop, so nothing keeps running on behalf of a caller that has gone.

    Raises:
        RuntimeError: the calling thread is running an event loop, which blocking would stall.
    """
    if (library := _running_async_library()) is not None:
        raise RuntimeError(
            f"MfaClient blocks, and this thread is running a {library} event loop: "
            "use AsyncMfaClient and await its methods instead"
        )
    if kwargs:
        func = functools.partial(func, **kwargs)
    future = _get_portal().start_task_soon(func, *args)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


def start(func: Callable[..., Awaitable[T]], *args: object) -> concurrent.futures.Future[T]:
    """Start ``func(*args)`` on the shared loop and return its future at once.

    For blocking iterators, which pull results with `call` while the work runs; cancelling
    the future cancels the task on the loop.

    Raises:
        RuntimeError: the calling thread is running an event loop, as for `call`.
    """
    if (library := _running_async_library()) is not None:
        raise RuntimeError(
            f"MfaClient blocks, and this thread is running a {library} event loop: "
            "use AsyncMfaClient and await its methods instead"
        )
    return _get_portal().start_task_soon(func, *args)


def _get_portal() -> BlockingPortal:
    global _portal  # noqa: PLW0603 - one loop per process is the point
    portal = _portal
    if portal is not None:
        return portal
    with _lock:
        if _portal is None:
            _portal = _start()
        return _portal


def _start() -> BlockingPortal:
    started = threading.Event()
    box: list[BlockingPortal | BaseException] = []

    async def serve() -> None:
        async with BlockingPortal() as portal:
            box.append(portal)
            started.set()
            await portal.sleep_until_stopped()

    def run() -> None:
        try:
            anyio.run(serve)
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
    global _portal, _lock  # noqa: PLW0603
    _portal = None
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
