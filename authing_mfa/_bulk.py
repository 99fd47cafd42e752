"""The bulk TOTP import engine behind `AsyncMfaClient.import_totp_many`.

Shape: one producer task pulls records from the input only when a worker slot is free (so the
input is never read ahead by more than *concurrency* records and memory stays flat), a worker
task per in-flight record imports it, and outcomes reach the caller through a stream of
*concurrency* slots, so a slow consumer stops the producer instead of piling outcomes up.

Pacing is per HTTP request, not per record: every attempt, retries included, first passes a
`Gate` shared by all workers (the client's `RetryPolicy` with the gate as its pacer). The gate
spaces requests to *rate_limit* per second, and when any answer (a 429, or a 503) carries
``Retry-After``, it closes for that long (at most the client's ``max_retry_wait``) for every
worker, since the server throttles the pool, not a connection.

Why a context manager and not a bare async generator: the workers live in a task group, and
an async generator that is abandoned after ``break`` is closed later by the event loop in
another task, where leaving a task group's cancel scope raises (and, on asyncio, cancels the
consumer). ``async with`` closes it in the task that opened it, at a point the caller sees.
"""

from __future__ import annotations

__all__ = ["Gate", "ImportStream", "iterate_blocking"]

import copy
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from . import _portal
from ._errors import AuthingMfaError, InvalidArgumentError
from ._records import ImportOutcome, TotpRecord, as_record, check_record

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._async_client import AsyncMfaClient

T = TypeVar("T")


RecordLike = TotpRecord | tuple[str, str] | tuple[str, str, str | None]
"""What `import_totp_many` accepts as one record (mappings too, read as `as_record` says)."""


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


def _gated_client(client: AsyncMfaClient, gate: Gate) -> AsyncMfaClient:
    """Return a view of *client* whose requests pass *gate*.

    It shares the client's settings, connection pool, token cache and hooks, so a bulk
    import fetches no token of its own, and it owns nothing: closing the client ends it.
    """
    base = client._transport  # noqa: SLF001 - the engine is part of the client
    policy = attrs.evolve(base._retry, pacer=gate)  # noqa: SLF001
    view = copy.copy(client)
    view._transport = base.with_retry(policy)  # noqa: SLF001
    return view


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


class ImportStream:
    """The outcomes of a bulk import, in the order the records finish.

    ::

        async with mfa.import_totp_many(records) as outcomes:
            async for outcome in outcomes:
                ...

    Entering starts the work; leaving, after the last outcome or early (``break``, an
    exception, a cancellation), cancels whatever is still in flight and returns once every
    task has ended. It must be entered and left in one task; it can be iterated once.
    """

    def __init__(
        self,
        client: AsyncMfaClient,
        records: Iterable[RecordLike | object] | AsyncIterable[RecordLike | object],
        *,
        concurrency: int,
        rate_limit: float | None,
        blocking_input: bool = False,
    ) -> None:
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
        self._client = client
        self._records = records
        self._concurrency = concurrency
        self._rate_limit = rate_limit
        self._blocking_input = blocking_input
        self._task_group: TaskGroup | None = None
        self._send: MemoryObjectSendStream[ImportOutcome | _Failure] | None = None
        self._receive: MemoryObjectReceiveStream[ImportOutcome | _Failure] | None = None
        self.gate: Gate = Gate(rate_limit)
        self.buffer: int = concurrency

    async def __aenter__(self) -> Self:
        if self._task_group is not None:
            raise RuntimeError("this import has already been started")
        view = _gated_client(self._client, self.gate)
        send, receive = anyio.create_memory_object_stream[ImportOutcome | _Failure](
            self._concurrency
        )
        self._send, self._receive = send, receive
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._task_group.start_soon(self._produce, view, send)
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

    def __aiter__(self) -> ImportStream:
        return self

    async def __anext__(self) -> ImportOutcome:
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

    async def _produce(
        self, client: AsyncMfaClient, send: MemoryObjectSendStream[ImportOutcome | _Failure]
    ) -> None:
        slots = anyio.Semaphore(self._concurrency)
        failure: Exception | None = None
        with send:
            async with anyio.create_task_group() as workers:
                index = 0
                try:
                    async for item in self._iterate():
                        await slots.acquire()
                        workers.start_soon(self._work, client, index, item, slots, send.clone())
                        index += 1
                except Exception as exc:  # noqa: BLE001 - raised in the consumer, after the rows in flight
                    failure = exc
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
        client: AsyncMfaClient,
        index: int,
        item: object,
        slots: anyio.Semaphore,
        send: MemoryObjectSendStream[ImportOutcome | _Failure],
    ) -> None:
        # The slot is held until the outcome is handed over, so a slow consumer stops the
        # producer instead of letting finished outcomes pile up.
        with send:
            try:
                outcome: ImportOutcome | _Failure = await _import_one(client, index, item)
            except Exception as exc:  # noqa: BLE001 - raised in the consumer
                outcome = _Failure(exc)
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


async def _import_one(client: AsyncMfaClient, index: int, item: object) -> ImportOutcome:
    record = as_record(item)
    try:
        checked = check_record(record)
        authenticator = await client.import_totp(
            checked.user_id, checked.secret, recovery_code=checked.recovery_code
        )
    except AuthingMfaError as exc:
        return ImportOutcome(index=index, record=record, error=exc)
    return ImportOutcome(index=index, record=record, authenticator=authenticator)


def iterate_blocking(stream: ImportStream) -> Iterator[ImportOutcome]:
    """Run *stream* on the shared event loop and yield its outcomes to a blocking caller.

    Closing the generator (``break`` in CPython, or ``close()``) cancels the work still in
    flight and returns once it has ended.
    """
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
) -> tuple[
    MemoryObjectSendStream[ImportOutcome | _Failure],
    MemoryObjectReceiveStream[ImportOutcome | _Failure],
]:
    return anyio.create_memory_object_stream[ImportOutcome | _Failure](buffer)


async def _drive(
    stream: ImportStream,
    send: MemoryObjectSendStream[ImportOutcome | _Failure],
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


async def _close(receive: MemoryObjectReceiveStream[ImportOutcome | _Failure]) -> None:
    receive.close()
