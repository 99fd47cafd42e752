"""The bulk engine: many records through one operation, with bounded concurrency and pacing.

It serves `import_totp_many`, `get_status_many` and `unassociate_mfa_many` (and their blocking
twins), and knows nothing of the client: it is given *work*, a coroutine function that turns
one input item and its index into an outcome without raising for a bad row, and it runs that
over the input.

Shape: *concurrency* worker tasks, each a loop like a hand-written one: take the next item
from the input, await the work, hand the outcome over, again. The input is read only by a
free worker, so it is never read ahead by more than *concurrency* items and memory stays
flat; outcomes reach the caller through an `_Outbox` of *concurrency* places, so a slow
consumer stops the workers instead of piling outcomes up. Long-lived workers and a plain
deque, rather than a task and a memory-stream message per row, keep the engine's cost per row
a few microseconds: a bulk run goes about as fast as the same calls made by 32 hand-written
tasks (see the benchmarks).

Pacing is per HTTP request, not per record: every attempt, retries included, first passes a
`Gate` shared by all workers. The engine sets the gate as `current_pacer` in its tasks, where
the retry loop (`_retry`) reads it, so the calls it makes are the client's ordinary calls. The
gate spaces requests to *rate_limit* per second, and when any answer (a 429, or a 503)
carries ``Retry-After``, it closes for that long (at most the client's ``max_retry_wait``) for
every worker, since the server throttles the pool, not a connection.

Why a context manager and not a bare async generator: the workers live in a task group, and
an async generator that is abandoned after ``break`` is closed later by the event loop in
another task, where leaving a task group's cancel scope raises (and, on asyncio, cancels the
consumer). ``async with`` closes it in the task that opened it, at a point the caller sees.

A row's failure never stops the others, except an error no other row can escape: refused pool
credentials (`AuthenticationError`) or permissions (`PermissionDeniedError`). The first such
outcome stops the reading of the input; the rows already in flight finish and are reported,
and then iterating raises that error, so a million-row run with a wrong secret asks the server
a handful of times, not a million. An exception of the input itself, or an item that is not a
record at all, stops the run the same way.
"""

from __future__ import annotations

__all__ = [
    "STOPS_THE_RUN",
    "BulkStream",
    "Gate",
    "HasError",
    "check_bulk_options",
    "iterate_blocking",
]

import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread
import attrs
from anyio.abc import TaskGroup

from . import _portal
from ._errors import AuthenticationError, InvalidArgumentError, PermissionDeniedError
from ._retry import current_pacer

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._errors import AuthingMfaError


class HasError(Protocol):
    """What the engine needs of an outcome: the error it ended with, if any."""

    @property
    def error(self) -> AuthingMfaError | None:
        """Why the item failed, or ``None``."""


O = TypeVar("O", bound=HasError)  # noqa: E741

# Errors no other row can escape: the pool's credentials, or its permissions, were refused.
# One of them stops the run, instead of every remaining row asking the server again.
STOPS_THE_RUN = (AuthenticationError, PermissionDeniedError)

# A worker whose rows need no waiting (all refused before sending) still lets the loop's
# other tasks run every so many rows.
_ROWS_BETWEEN_CHECKPOINTS = 64


def check_bulk_options(concurrency: object, rate_limit: object) -> None:
    """Check the options every bulk method takes.

    Raises:
        InvalidArgumentError: *concurrency* is not an int >= 1, or *rate_limit* is neither
            ``None`` nor a positive finite number.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidArgumentError(f"concurrency must be an int >= 1, not {concurrency!r}")
    if rate_limit is not None and (
        isinstance(rate_limit, bool)
        or not isinstance(rate_limit, (int, float))
        or not 0 < rate_limit < float("inf")
    ):
        raise InvalidArgumentError(
            f"rate_limit must be a positive number of requests per second or None, "
            f"not {rate_limit!r}"
        )


class Gate:
    """Paces the requests of every worker of one bulk run.

    *rate_limit* requests per second at most (``None``: no limit), each spaced
    ``1 / rate_limit`` from the previous one; and none at all while a pause asked for by a
    429's ``Retry-After`` lasts. Belongs to one event loop; its tasks share it without locks.
    Until it is first paused, a gate without a rate limit lets every request through at
    once, without so much as reading the clock.
    """

    def __init__(self, rate_limit: float | None) -> None:
        self._interval = 0.0 if rate_limit is None else 1.0 / rate_limit
        self._next_slot = 0.0
        self._paused_until = 0.0

    async def wait(self) -> None:
        """Return when this task may send its next request."""
        if self.open:
            return
        while True:
            now = anyio.current_time()
            if self._paused_until > now:
                await anyio.sleep(self._paused_until - now)
                continue
            if self._interval:
                slot = max(now, self._next_slot)
                self._next_slot = slot + self._interval
                if slot > now:
                    await anyio.sleep(slot - now)
            # A pause may have begun while this task waited for its slot.
            if self._paused_until <= anyio.current_time():
                return

    async def hold(self) -> None:
        """Return when no ``Retry-After`` pause is on (no rate slot is taken)."""
        if not self._paused_until:
            return
        while (now := anyio.current_time()) < self._paused_until:  # noqa: ASYNC110 - a deadline that may move
            await anyio.sleep(self._paused_until - now)

    def pause(self, seconds: float) -> None:
        """Let no worker send for *seconds* from now (a longer pause already set stands)."""
        self._paused_until = max(self._paused_until, anyio.current_time() + seconds)

    @property
    def open(self) -> bool:
        """Whether every request may go at once: no rate limit, and never paused so far."""
        return not self._interval and not self._paused_until

    @property
    def paused(self) -> bool:
        """Whether a ``Retry-After`` pause is on."""
        return self._paused_until > anyio.current_time()


@attrs.frozen
class _Failure:
    """An exception of the input or of the work, carried to the consumer to be raised there."""

    error: BaseException


_DONE = object()


class _Outbox(Generic[O]):
    """A bounded handoff of outcomes from the workers to the consumer, in one event loop.

    A deque and two events, made only when someone must wait: a put into free room, or a get
    of a waiting outcome, costs no trip through the event loop.
    """

    def __init__(self, size: int) -> None:
        self._items: deque[O | _Failure] = deque()
        self._size = size
        self._closed = False
        self._readable: anyio.Event | None = None
        self._writable: anyio.Event | None = None

    async def put(self, item: O | _Failure) -> None:
        while len(self._items) >= self._size:
            if self._writable is None:
                self._writable = anyio.Event()
            await self._writable.wait()
        self._items.append(item)
        if self._readable is not None:
            self._readable.set()
            self._readable = None

    async def get(self) -> O | _Failure | None:
        """Return the next item, or ``None`` once the outbox is closed and empty."""
        while not self._items:
            if self._closed:
                return None
            if self._readable is None:
                self._readable = anyio.Event()
            await self._readable.wait()
        item = self._items.popleft()
        if self._writable is not None:
            self._writable.set()
            self._writable = None
        return item

    async def get_batch(self) -> list[O | _Failure]:
        """Return every waiting item, waiting for one if none is; ``[]`` once closed and empty."""
        first = await self.get()
        if first is None:
            return []
        batch = [first, *self._items]
        self._items.clear()
        if self._writable is not None:
            self._writable.set()
            self._writable = None
        return batch

    def close(self) -> None:
        self._closed = True
        if self._readable is not None:
            self._readable.set()
            self._readable = None


class BulkStream(Generic[O]):
    """The outcomes of a bulk run, in the order the records finish.

    ::

        async with mfa.import_totp_many(records) as outcomes:
            async for outcome in outcomes:
                ...

    Entering starts the work; leaving, after the last outcome or early (``break``, an
    exception, a cancellation), cancels whatever is still in flight and returns once every
    task has ended. It must be entered and left in one task; it can be iterated once.

    Args:
        work: ``await work(index, item)`` handles one input item and returns its outcome; it
            raises only for an item that is not a record at all, which ends the run. An
            outcome whose error no other row can escape stops the run (see above).
        records: the input, read one item at a time as workers free up.
        concurrency: how many items may be in flight at once.
        rate_limit: the most requests per second, shared by every worker; ``None``: no limit.
        blocking_input: read a plain iterable in a worker thread (for the blocking client,
            whose input may be a slow database cursor) instead of in the event loop.

    Raises:
        InvalidArgumentError: as `check_bulk_options`.
        AuthenticationError, PermissionDeniedError: (while iterating) after the outcomes of
            the rows in flight, when one of them ended so.
        TypeError: (while iterating) an item is not a record.
    """

    def __init__(
        self,
        work: Callable[[int, object], Awaitable[O]],
        records: Iterable[object] | AsyncIterable[object],
        *,
        concurrency: int,
        rate_limit: float | None,
        blocking_input: bool = False,
    ) -> None:
        check_bulk_options(concurrency, rate_limit)
        self._work_on = work
        self._records = records
        self._concurrency = concurrency
        self._blocking_input = blocking_input
        self._task_group: TaskGroup | None = None
        self._outbox: _Outbox[O] | None = None
        self._next_index = 0
        self._stopped_by: BaseException | None = None
        self.gate: Gate = Gate(rate_limit)

    async def __aenter__(self) -> Self:
        if self._task_group is not None:
            raise RuntimeError("this bulk run has already been started")
        self._outbox = _Outbox(self._concurrency)
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._task_group.start_soon(self._run, self._outbox)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        task_group = self._task_group
        if task_group is None:
            raise RuntimeError("this bulk run was never started")
        task_group.cancel_scope.cancel()
        try:
            if exc is not None and not isinstance(exc, anyio.get_cancelled_exc_class()):
                # The caller's own exception (or one __anext__ raised for the input) goes on
                # as it is, not wrapped in the task group's ExceptionGroup: the workers, which
                # never raise, are only cancelled.
                await task_group.__aexit__(None, None, None)
                return None
            return await task_group.__aexit__(exc_type, exc, tb)
        finally:
            if self._outbox is not None:
                self._outbox.close()

    def __aiter__(self) -> BulkStream[O]:
        return self

    async def __anext__(self) -> O:
        """Return the next outcome to finish; raise what stopped the run, after the rest."""
        outbox = self._outbox
        if outbox is None:
            raise RuntimeError(
                "enter the run first: async with mfa.import_totp_many(records) as outcomes"
            )
        item = await outbox.get()
        if item is None:
            raise StopAsyncIteration
        if isinstance(item, _Failure):
            raise item.error
        return item

    async def next_batch(self) -> list[O | _Failure]:
        """Return every outcome ready now, waiting for one; ``[]`` at the end.

        For the blocking client, which crosses threads once per batch, not once per outcome.
        """
        assert self._outbox is not None  # noqa: S101 - called only once entered
        return await self._outbox.get_batch()

    async def _run(self, outbox: _Outbox[O]) -> None:
        # Every worker starts in a copy of this task's context, and so runs paced by the gate.
        current_pacer.set(self.gate)
        take = self._taker()
        try:
            async with anyio.create_task_group() as workers:
                for _ in range(self._concurrency):
                    workers.start_soon(self._worker, take, outbox)
            if self._stopped_by is not None:
                await outbox.put(_Failure(self._stopped_by))
        finally:
            outbox.close()

    def _taker(self) -> Callable[[], Awaitable[object]] | Iterator[object]:
        """Return how workers take the next item: a plain iterator, or a coroutine function."""
        records = self._records
        if isinstance(records, AsyncIterable):
            return _serialized(aiter(records))
        items = iter(records)
        if self._blocking_input:
            return _in_thread(items)
        return items

    async def _worker(
        self, take: Callable[[], Awaitable[object]] | Iterator[object], outbox: _Outbox[O]
    ) -> None:
        rows = 0
        while self._stopped_by is None:
            try:
                # A plain iterator is read in the loop; it cannot be entered twice at once.
                item = next(take, _DONE) if isinstance(take, Iterator) else await take()
            except Exception as exc:  # noqa: BLE001 - raised in the consumer, after the rows in flight
                self._stop(exc)
                return
            if item is _DONE or self._stopped_by is not None:
                return
            index = self._next_index
            self._next_index += 1
            try:
                outcome: O | _Failure = await self._work_on(index, item)
            except Exception as exc:  # noqa: BLE001 - not a record at all: raised in the consumer
                outcome = _Failure(exc)
                self._stop(None)
            else:
                if isinstance(outcome.error, STOPS_THE_RUN):
                    self._stop(outcome.error)
            await outbox.put(outcome)
            rows += 1
            if rows % _ROWS_BETWEEN_CHECKPOINTS == 0:
                await anyio.lowlevel.checkpoint()

    def _stop(self, reason: BaseException | None) -> None:
        """Read no more input; raise *reason* (if any) after the rows in flight."""
        if self._stopped_by is None:
            self._stopped_by = reason if reason is not None else _STOPPED


# Stopped without an error of its own to raise at the end (the failure went out already).
_STOPPED = RuntimeError("the bulk run stopped")


def _serialized(items: AsyncIterator[object]) -> Callable[[], Awaitable[object]]:
    """Take from an async iterator one worker at a time (it cannot be entered twice)."""
    lock = anyio.Lock()

    async def take() -> object:
        async with lock:
            return await anext(items, _DONE)

    return take


def _in_thread(items: Iterator[object]) -> Callable[[], Awaitable[object]]:
    """Take from a blocking iterator in a worker thread, one worker at a time."""
    lock = anyio.Lock()

    async def take() -> object:
        async with lock:
            return await anyio.to_thread.run_sync(next, items, _DONE)

    return take


def iterate_blocking(stream: BulkStream[O]) -> Iterator[O]:
    """Run *stream* on the shared event loop and yield its outcomes to a blocking caller.

    The outcomes cross to the caller's thread in batches of what is ready, not one hop each.
    Closing the generator (``break`` in CPython, or ``close()``) cancels the work still in
    flight and returns once it has ended.
    """
    run = _BlockingRun(stream, _portal.call(_new_event))
    future = _portal.start(run.serve)
    try:
        run.entered.wait()
        if future.done():  # entering failed: raise why
            future.result()
        while True:
            batch = _portal.call(stream.next_batch)
            if not batch:
                return
            for item in batch:
                if isinstance(item, _Failure):
                    raise item.error
                yield item
    finally:
        _portal.call(run.leave)
        with contextlib.suppress(BaseException):  # cancelled or failed: the work is over
            future.result()


async def _new_event() -> anyio.Event:
    return anyio.Event()


class _BlockingRun(Generic[O]):
    """Holds a stream open in one task of the shared loop until its blocking caller leaves."""

    def __init__(self, stream: BulkStream[O], left: anyio.Event) -> None:
        self.stream = stream
        self.entered = threading.Event()
        self._left = left

    async def serve(self) -> None:
        try:
            async with self.stream:
                self.entered.set()
                await self._left.wait()
        finally:
            self.entered.set()

    async def leave(self) -> None:
        self._left.set()
