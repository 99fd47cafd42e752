"""One client in any event loop: what it keeps for each loop it runs in, and when that ends.

An `AsyncMfaClient` may be awaited from several event loops, in turn or at once: a module-level
client under pytest-asyncio's per-test loops, Django's async views under WSGI (a loop each),
``asyncio.run`` per Celery task, trio then asyncio in one process, a thread per loop. A
connection pool cannot be shared between loops (its sockets and locks belong to one), so a
client keeps a `PerLoop` registry of what belongs to each loop: its pool and its token lock.

Each loop's part is opened on first use there and closed when that loop ends, in that loop:

- under asyncio, by a small async generator first iterated in the loop, which asyncio closes
  at ``shutdown_asyncgens()`` (``asyncio.run``, ``asyncio.Runner``, anyio, pytest-asyncio and
  Django's asgiref all call it), or, if the client is dropped first, when the generator is
  garbage-collected while the loop still runs;
- under trio, by a system task that is cancelled when the run ends.

The registry holds loops weakly, so a finished loop and its part are forgotten; no part ever
waits on another loop's future or lock. Times are kept on one shared scale (`Clock`), so a
value one loop wrote, such as the token's expiry, reads right in every other.
"""

from __future__ import annotations

__all__ = ["Clock", "LoopPart", "PerLoop", "current_loop", "time_reader"]

import contextlib
import sys
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    import asyncio


class LoopPart(Protocol):
    """What a client keeps for one loop; closed in that loop when it ends, or by the client."""

    async def aclose(self) -> None:
        """Release what this part holds; idempotent, and never raises."""


P = TypeVar("P", bound=LoopPart)


def current_loop() -> object:
    """Return the running event loop (asyncio) or run (trio's token): a weakly referable key.

    Raises:
        RuntimeError: no asyncio or trio event loop runs in this thread.
    """
    trio = sys.modules.get("trio")
    if trio is not None and trio.lowlevel.in_trio_run():
        return trio.lowlevel.current_trio_token()
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            pass
    raise RuntimeError("an AsyncMfaClient call must run in an asyncio or trio event loop")


class Clock:
    """The running loop's clock, read on one scale shared by every loop of the process.

    asyncio's loops tell ``time.monotonic()``; trio's clock adds an offset of its own to it (or,
    with ``MockClock``, runs on virtual time). Each loop's reading is shifted by the offset
    measured when the loop was first seen, so every loop agrees on real time, and a virtual
    clock still moves a client's times, as tests on ``MockClock`` expect.
    """

    __slots__ = ("_offset", "_read", "now")

    def __init__(self, read: Callable[[], float]) -> None:
        self._read = read
        self._offset = read() - time.monotonic()
        # A loop whose clock is time.monotonic() reads the shared scale itself.
        self.now: Callable[[], float] = read if read is time.monotonic else self._shifted
        """Return the time on the shared scale, in seconds."""

    def _shifted(self) -> float:
        return self._read() - self._offset


def time_reader(loop: asyncio.AbstractEventLoop) -> Callable[[], float]:
    """Return what reads *loop*'s clock: `time.monotonic` itself for asyncio's own loops.

    Their ``time()`` returns ``time.monotonic()``; calling that directly saves a Python frame
    on every reading, and a call reads the time two or three times. Other loops (uvloop's)
    keep their own clock.
    """
    base = sys.modules["asyncio"].BaseEventLoop  # loaded: its loop is running
    if getattr(loop.time, "__func__", None) is base.time:
        return time.monotonic
    return loop.time


class _Entry(Generic[P]):
    __slots__ = ("dropped", "keeper", "loop", "part")

    def __init__(self, loop: object, part: P) -> None:
        self.loop = weakref.ref(loop)
        self.part = part
        self.keeper: object = None
        self.dropped: weakref.finalize[..., object] | None = None


class PerLoop(Generic[P]):
    """A client's parts, one per event loop it has run in; see the module's docstring.

    ::

        part = loops.find() or await loops.open()

    Args:
        open_part: builds the part for the running loop, given that loop's `Clock`; called
            in that loop, without awaiting, so two tasks never open two parts for one loop.
        prepare: awaited in the loop before its part is first built (the client's warm-up).

    Concurrency: loops in several threads may use one registry at once.
    """

    def __init__(
        self,
        open_part: Callable[[Clock], P],
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._open_part = open_part
        self._prepare = prepare
        self._entries: weakref.WeakKeyDictionary[object, _Entry[P]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()  # guards _entries across threads
        self._last: _Entry[P] | None = None
        self.closed = False

    def find(self) -> P | None:
        """Return the running loop's part, or ``None`` before its first use in this loop.

        Raises:
            RuntimeError: no asyncio or trio event loop runs in this thread.
        """
        if self.closed:
            raise RuntimeError("this client is closed; build a new one")
        loop = current_loop()
        entry = self._last
        if entry is None or entry.loop() is not loop:
            with self._lock:
                entry = self._entries.get(loop)
            if entry is None:
                return None
            self._last = entry
        return entry.part

    async def open(self) -> P:
        """Return the running loop's part, opening it if this loop has none yet.

        Raises:
            RuntimeError: the client is closed, or no asyncio or trio event loop runs.
        """
        if self.closed:
            raise RuntimeError("this client is closed; build a new one")
        loop = current_loop()
        if self._prepare is not None:
            await self._prepare()  # tasks of this loop may meet here: the first one builds
        trio = sys.modules.get("trio")
        trio_run = trio is not None and isinstance(loop, trio.lowlevel.TrioToken)
        with self._lock:
            entry = self._entries.get(loop)
            new = entry is None
            if entry is None:
                # Built and registered with no await in between: one part per loop.
                read = trio.current_time if trio_run else time_reader(loop)  # type: ignore[union-attr, arg-type]
                entry = self._entries[loop] = _Entry(loop, self._open_part(Clock(read)))
        if new and trio_run:
            trio.lowlevel.spawn_system_task(_close_at_run_end, entry.part)  # type: ignore[union-attr]
        elif new:
            # If this registry is dropped while the loop runs, the part is closed in the loop;
            # the finalizer holds the part, so the garbage collector never finalizes its pool
            # unclosed on the way.
            entry.dropped = weakref.finalize(self, _close_in, entry.loop, entry.part)
            keeper = _close_at_loop_end(entry)
            # Its first step registers it with the loop, which closes it at shutdown.
            await keeper.asend(None)
            entry.keeper = keeper
        self._last = entry
        return entry.part

    async def aclose(self) -> None:
        """Close the running loop's part now, and have every other loop close its own.

        A part of another loop that still runs is closed in that loop, soon; one whose loop
        has stopped is closed when that loop ends.
        """
        self.closed = True
        self._last = None
        try:
            here: object | None = current_loop()
        except RuntimeError:
            here = None
        with self._lock:
            entries = list(self._entries.items())
        for loop, entry in entries:
            if loop is here:
                await entry.part.aclose()
            else:
                _close_elsewhere(loop, entry.part)


async def _close_at_loop_end(entry: _Entry[P]) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if entry.dropped is not None:
            entry.dropped.detach()
        await entry.part.aclose()


async def _close_at_run_end(part: LoopPart) -> None:
    import trio  # noqa: PLC0415 - only ever called under trio

    try:
        await trio.sleep_forever()
    finally:
        with trio.CancelScope(shield=True):
            await part.aclose()


# Tasks closing parts in their loops: asyncio keeps only weak references to tasks.
_closing: set[object] = set()


def _close_in(loop_ref: weakref.ref[object], part: LoopPart) -> None:
    """Have the asyncio loop *loop_ref* names close *part* when it next runs, unless it is gone.

    Safe from any thread, the garbage collector's included. The coroutine is made in the loop,
    so a loop that never runs again leaves no coroutine unawaited.
    """
    loop: asyncio.AbstractEventLoop | None = loop_ref()  # type: ignore[assignment]
    if loop is None or loop.is_closed():
        return  # the loop's end closed the part, or it is gone with its sockets

    def start() -> None:
        task = loop.create_task(part.aclose())
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    with contextlib.suppress(RuntimeError):  # closed meanwhile
        loop.call_soon_threadsafe(start)


def _close_elsewhere(loop: object, part: LoopPart) -> None:
    """Ask *loop*, which runs in another thread or not at all now, to close *part*."""
    trio = sys.modules.get("trio")
    if trio is not None and isinstance(loop, trio.lowlevel.TrioToken):

        def spawn() -> None:
            trio.lowlevel.spawn_system_task(part.aclose)

        # If the run has ended, it closed the part on its way out.
        with contextlib.suppress(trio.RunFinishedError):
            loop.run_sync_soon(spawn)
        return
    _close_in(weakref.ref(loop), part)
