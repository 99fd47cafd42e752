"""The bulk engine: many records through one operation, with bounded concurrency and pacing.

It serves `AsyncMfaClient.import_totp_many` (and its blocking twin), and knows nothing of the
client: it is given *work*, a coroutine function that turns one input item and its index into
an outcome without raising for a bad row, and it runs that over the input.

Shape: one producer task pulls records from the input only when a worker slot is free (so the
input is never read ahead by more than *concurrency* records and memory stays flat), a worker
task per in-flight record imports it, and outcomes reach the caller through a stream of
*concurrency* slots, so a slow consumer stops the producer instead of piling outcomes up.

Pacing is per HTTP request, not per record: every attempt, retries included, first passes a
`Gate` shared by all workers. The engine sets the gate as `current_pacer` in its tasks, where
the retry loop (`_retry`) reads it, so the calls it makes are the client's ordinary calls. The
gate
spaces requests to *rate_limit* per second, and when any answer (a 429, or a 503) carries
``Retry-After``, it closes for that long (at most the client's ``max_retry_wait``) for every
worker, since the server throttles the pool, not a connection.

Why a context manager and not a bare async generator: the workers live in a task group, and
an async generator that is abandoned after ``break`` is closed later by the event loop in
another task, where leaving a task group's cancel scope raises (and, on asyncio, cancels the
consumer). ``async with`` closes it in the task that opened it, at a point the caller sees.

A row's failure never stops the others, except an error no other row can escape: refused pool
credentials (`AuthenticationError`) or permissions (`PermissionDeniedError`). The first such
outcome stops the reading of the input; the rows already in flight finish and are reported,
and then iterating raises that error, so a million-row run with a wrong secret asks the server
a handful of times, not a million.
"""

from __future__ import annotations

__all__ = ["BulkStream", "Gate", "HasError", "check_bulk_options", "iterate_blocking"]

import threading
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

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
_STOPS_THE_RUN = (AuthenticationError, PermissionDeniedError)


class Gate:
    """Paces the requests of every worker of one bulk import.

    *rate_limit* requests per second at most (``None``: no limit), each spaced
    ``1 / rate_limit`` from the previous one; and none at all while a pause asked for by a
    429's ``Retry-After`` lasts. Belongs to one event loop; its tasks share it without locks.
    """

    def __init__(self, rate_limit: float | None) -> None:
        self._interval = 0.0 if rate_limit is None else 1.0 / rate_limit
        self._next_slot = 0.0
        self._paused_until = 0.0

    async def wait(self) -> None:
        """Return when this task may send its next request."""
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

    def pause(self, seconds: float) -> None:
        """Let no worker send for *seconds* from now (a longer pause already set stands)."""
        self._paused_until = max(self._paused_until, anyio.current_time() + seconds)

    @property
    def paused(self) -> bool:
        """Whether a ``Retry-After`` pause is on."""
        return self._paused_until > anyio.current_time()


@attrs.frozen
class _Failure:
    """An exception of the producer, carried to the consumer to be raised there."""

    error: BaseException


_DONE = object()


class _ThreadedIterator:
    """Pulls a blocking iterator's items in a worker thread, so the event loop never waits."""

    def __init__(self, items: Iterable[object]) -> None:
        self._items: Iterator[object] = iter(items)

    def __aiter__(self) -> _ThreadedIterator:
        return self

    async def __anext__(self) -> object:
        item = await anyio.to_thread.run_sync(next, self._items, _DONE)
        if item is _DONE:
            raise StopAsyncIteration
        return item


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
        self._rate_limit = rate_limit
        self._blocking_input = blocking_input
        self._task_group: TaskGroup | None = None
        self._send: MemoryObjectSendStream[O | _Failure] | None = None
        self._receive: MemoryObjectReceiveStream[O | _Failure] | None = None
        self.gate: Gate = Gate(rate_limit)
        self.buffer: int = concurrency
        self._stopped_by: AuthingMfaError | None = None

    async def __aenter__(self) -> Self:
        if self._task_group is not None:
            raise RuntimeError("this import has already been started")
        send, receive = anyio.create_memory_object_stream[O | _Failure](self._concurrency)
        self._send, self._receive = send, receive
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._task_group.start_soon(self._produce, send)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        task_group = self._task_group
        if task_group is None:
            raise RuntimeError("this import was never started")
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
            if self._send is not None:
                self._send.close()
            if self._receive is not None:
                self._receive.close()

    def __aiter__(self) -> BulkStream[O]:
        return self

    async def __anext__(self) -> O:
        """Return the next outcome to finish; raise what the input or a worker raised."""
        if self._receive is None:
            raise RuntimeError(
                "enter the import first: async with mfa.import_totp_many(records) as outcomes"
            )
        try:
            item = await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None
        if isinstance(item, _Failure):
            raise item.error
        return item

    async def _produce(self, send: MemoryObjectSendStream[O | _Failure]) -> None:
        # Every worker starts in a copy of this task's context, and so runs paced by the gate.
        current_pacer.set(self.gate)
        slots = anyio.Semaphore(self._concurrency)
        failure: BaseException | None = None
        with send:
            async with anyio.create_task_group() as workers:
                items = self._iterate()
                index = 0
                try:
                    # An item is read only once a slot is free, so none waits in memory.
                    while True:
                        await slots.acquire()
                        if self._stopped_by is not None:
                            break
                        try:
                            item = await anext(items)
                        except StopAsyncIteration:
                            break
                        workers.start_soon(self._work, index, item, slots, send.clone())
                        index += 1
                except Exception as exc:  # noqa: BLE001 - raised in the consumer, after the rows in flight
                    failure = exc
            failure = failure or self._stopped_by
            if failure is not None:
                await send.send(_Failure(failure))

    def _iterate(self) -> AsyncIterator[object]:
        records = self._records
        if isinstance(records, AsyncIterable):
            return aiter(records)
        if self._blocking_input:
            return _ThreadedIterator(records)
        return _SyncAsAsync(records)

    async def _work(
        self,
        index: int,
        item: object,
        slots: anyio.Semaphore,
        send: MemoryObjectSendStream[O | _Failure],
    ) -> None:
        # The slot is held until the outcome is handed over, so a slow consumer stops the
        # producer instead of letting finished outcomes pile up.
        with send:
            try:
                outcome: O | _Failure = await self._work_on(index, item)
            except Exception as exc:  # noqa: BLE001 - raised in the consumer
                outcome = _Failure(exc)
            else:
                if isinstance(outcome.error, _STOPS_THE_RUN) and self._stopped_by is None:
                    self._stopped_by = outcome.error
            try:
                await send.send(outcome)
            finally:
                slots.release()


class _SyncAsAsync:
    """A plain iterator, read in the event loop: for in-memory lists and local files."""

    def __init__(self, items: Iterable[object]) -> None:
        self._items: Iterator[object] = iter(items)

    def __aiter__(self) -> _SyncAsAsync:
        return self

    async def __anext__(self) -> object:
        item = next(self._items, _DONE)
        if item is _DONE:
            raise StopAsyncIteration
        # Reading a long in-memory list must not starve the loop's other tasks.
        await anyio.lowlevel.checkpoint()
        return item


def iterate_blocking(stream: BulkStream[O]) -> Iterator[O]:
    """Run *stream* on the shared event loop and yield its outcomes to a blocking caller.

    Closing the generator (``break`` in CPython, or ``close()``) cancels the work still in
    flight and returns once it has ended.
    """
    send: MemoryObjectSendStream[O | _Failure]
    receive: MemoryObjectReceiveStream[O | _Failure]
    send, receive = _portal.call(_handoff, stream.buffer)
    ended = threading.Event()
    future = _portal.start(_drive, stream, send, ended)
    try:
        while True:
            try:
                item = _portal.call(receive.receive)
            except anyio.EndOfStream:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        future.cancel()
        ended.wait()
        _portal.call(_close, receive)


async def _handoff(
    buffer: int,
) -> tuple[MemoryObjectSendStream[Any], MemoryObjectReceiveStream[Any]]:
    # Created in the event loop's thread, where anyio's streams belong.
    return anyio.create_memory_object_stream[Any](buffer)


async def _drive(
    stream: BulkStream[O],
    send: MemoryObjectSendStream[O | _Failure],
    ended: threading.Event,
) -> None:
    try:
        with send:
            try:
                async with stream as outcomes:
                    async for outcome in outcomes:
                        await send.send(outcome)
            except Exception as exc:  # noqa: BLE001 - raised in the blocking caller
                await send.send(_Failure(exc))
    finally:
        ended.set()


async def _close(receive: MemoryObjectReceiveStream[O | _Failure]) -> None:
    receive.close()
