"""Run one scripted conversation through each HTTP stack and client, and describe how it ended.

A `Conversation` is what the hostile server answers to one call: the answers to the token
request, in order, and the answers to the operation's path, in order. `run` replays it through
one `Runner` (a stack and a client) and returns an `Outcome`: the record type or the exact
exception class, the requests the server saw per path, the time the call took, and everything
a leak could hide in (the exception's text, chain and traceback, every log record).
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from hostile_server import (
    POOL_SECRET,
    RECOVERY_CODE,
    SECRETS,
    SUCCESS_DATA,
    TOTP_KEY,
    Answer,
    HostileServer,
    envelope,
    json_answer,
)

from authing_mfa import AsyncMfaClient, AuthingMfaError, MfaClient

Operation = Literal["get_status", "unassociate_mfa", "import_totp"]

# Small budgets so a conversation ends fast; total_timeout never binds before the retries end
# (at most 3 attempts of 4 answers, each under TIMEOUT plus a short stall), so whether a retry
# happens never depends on how fast a stack is.
TIMEOUT = 0.5
TOTAL_TIMEOUT = 8.0
MAX_RETRY_WAIT = 0.5
SHORT_STALL = 0.1
# Past the timeout, and past the time a stall of either stack can take to be noticed (at most
# twice the timeout: a connection, then a head, each within it), so no stall ends just as a
# timer does.
LONG_STALL = 2 * TIMEOUT + 0.5
# The property's margin over total_timeout: measured, generous, never a tight timing.
MARGIN = 2.0
# A run still going this long has hung: it is stopped, and reported with where it was.
HANG = TOTAL_TIMEOUT + MARGIN + 5.0


class Hung(Exception):  # noqa: N818 - an outcome, not an error of the code under test
    """The call did not end; the message holds the stacks of the tasks still running."""


@dataclass(frozen=True)
class Conversation:
    """The answers for one call: to the token request, then to the operation's path."""

    operation: Operation = "get_status"
    token: tuple[Answer, ...] = ()
    api: tuple[Answer, ...] = ()
    max_retries: int = 0
    user_id: str = "u1"
    options: tuple[tuple[str, Any], ...] = ()  # more client settings, such as app_id


@dataclass(frozen=True)
class Outcome:
    """How one run of a conversation ended."""

    result: str  # "record MfaStatus", "error ServerError", "escaped httpx.InvalidURL"...
    seen: tuple[int, int]  # requests the server read: (token, api)
    elapsed: float
    leaks: tuple[str, ...]  # where a secret showed up
    error: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def comparable(self) -> tuple[str, tuple[int, int]]:
        return self.result, self.seen


@dataclass(frozen=True)
class Runner:
    """A way to run a call: which client, which HTTP stack, which event loop."""

    name: str
    run: Callable[[HostileServer, Conversation, dict[str, Any]], Any]


def client_settings(server: HostileServer, conversation: Conversation) -> dict[str, Any]:
    return {
        "host": server.url,
        "user_pool_id": "5cce4aa83ed9f97b4dfd95f0",
        "secret": POOL_SECRET,
        "timeout": TIMEOUT,
        "total_timeout": TOTAL_TIMEOUT,
        "max_retries": conversation.max_retries,
        "max_retry_wait": MAX_RETRY_WAIT,
        "wait_initial": 0,
        "wait_max": 0,
        **dict(conversation.options),
    }


async def _call(client: Any, conversation: Conversation) -> Any:
    user_id = conversation.user_id
    if conversation.operation == "get_status":
        return await client.get_status(user_id)
    if conversation.operation == "unassociate_mfa":
        return await client.unassociate_mfa(user_id, "otp")
    return await client.import_totp(user_id, TOTP_KEY, recovery_code=RECOVERY_CODE)


def _call_sync(client: MfaClient, conversation: Conversation) -> Any:
    user_id = conversation.user_id
    if conversation.operation == "get_status":
        return client.get_status(user_id)
    if conversation.operation == "unassociate_mfa":
        return client.unassociate_mfa(user_id, "otp")
    return client.import_totp(user_id, TOTP_KEY, recovery_code=RECOVERY_CODE)


async def _async_run(settings: dict[str, Any], conversation: Conversation) -> Any:
    async with AsyncMfaClient(**settings) as client:
        return await _call(client, conversation)


async def _watched(call: Awaitable[Any]) -> Any:
    """Await *call* under asyncio; after `HANG` seconds, cancel it and raise `Hung`."""
    task = asyncio.ensure_future(call)
    stacks: list[str] = []

    def stop() -> None:
        stacks.extend(_task_stacks())
        task.cancel()

    watchdog = asyncio.get_running_loop().call_later(HANG, stop)
    try:
        return await task
    except asyncio.CancelledError:
        if stacks:
            raise Hung("\n".join(stacks)) from None
        raise
    finally:
        watchdog.cancel()


def _task_stacks() -> list[str]:
    stacks = []
    for task in asyncio.all_tasks():
        out = io.StringIO()
        task.print_stack(file=out)
        stacks.append(out.getvalue())
    return stacks


def _aiohttp_async(server, conversation, settings):
    return asyncio.run(_watched(_async_run(settings, conversation)))


def _httpx_async(server, conversation, settings):
    async def main():
        async with httpx.AsyncClient(trust_env=False) as http_client:
            return await _async_run({**settings, "http_client": http_client}, conversation)

    return asyncio.run(_watched(main()))


def _httpx_trio(server, conversation, settings):
    import trio

    async def main():
        with trio.move_on_after(HANG) as scope:
            return await _async_run(settings, conversation)
        if scope.cancelled_caught:
            raise Hung("the call under trio did not end")
        return None  # pragma: no cover - the block returns or is cancelled

    return trio.run(main)


def _in_thread(call: Callable[[], Any]) -> Any:
    """Run a blocking call in a daemon thread; raise `Hung` if it has not ended after `HANG`."""
    box: list[Any] = []

    def target() -> None:
        try:
            box.append((True, call()))
        except BaseException as exc:  # noqa: BLE001 - handed back to the waiting thread
            box.append((False, exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG)
    if not box:
        raise Hung("a blocking call did not end")
    ok, value = box[0]
    if not ok:
        raise value
    return value


def _aiohttp_sync(server, conversation, settings):
    def call():
        with MfaClient(**settings) as client:
            return _call_sync(client, conversation)

    return _in_thread(call)


def _httpx_sync(server, conversation, settings):
    def call():
        with MfaClient(**settings, transport=httpx.AsyncHTTPTransport()) as client:
            return _call_sync(client, conversation)

    return _in_thread(call)


AIOHTTP_ASYNC = Runner("aiohttp/AsyncMfaClient/asyncio", _aiohttp_async)
HTTPX_ASYNC = Runner("httpx/AsyncMfaClient/asyncio", _httpx_async)
HTTPX_TRIO = Runner("httpx/AsyncMfaClient/trio", _httpx_trio)
AIOHTTP_SYNC = Runner("aiohttp/MfaClient", _aiohttp_sync)
HTTPX_SYNC = Runner("httpx/MfaClient", _httpx_sync)
RUNNERS = (AIOHTTP_ASYNC, HTTPX_ASYNC, AIOHTTP_SYNC, HTTPX_TRIO, HTTPX_SYNC)


def default_api_answer(operation: Operation) -> Answer:
    return json_answer(envelope(SUCCESS_DATA[operation]))


def run(server: HostileServer, conversation: Conversation, runner: Runner) -> Outcome:
    """Replay *conversation* through *runner*; never raise what the call raised."""
    settings = client_settings(server, conversation)
    default_api = default_api_answer(conversation.operation)
    with (
        _all_logs() as records,
        server.play(conversation.token, conversation.api, default_api) as seen,
    ):
        started = time.monotonic()
        error: BaseException | None = None
        try:
            value = runner.run(server, conversation, settings)
        except AuthingMfaError as exc:
            elapsed = time.monotonic() - started
            result, leaks, error = f"error {type(exc).__name__}", leaks_in_exception(exc), exc
        except Hung as exc:
            elapsed = time.monotonic() - started
            result, leaks, error = "hung", (), exc
        except Exception as exc:  # noqa: BLE001 - what escapes the hierarchy is the finding
            elapsed = time.monotonic() - started
            name = f"{type(exc).__module__}.{type(exc).__qualname__}"
            result, leaks, error = f"escaped {name}", leaks_in_exception(exc), exc
        else:
            elapsed = time.monotonic() - started
            result, leaks = f"record {type(value).__name__}", ()
        counts = (seen["token"], seen["api"])
    log_leaks = tuple(f"log record {where}" for where in leaks_in_logs(records))
    return Outcome(result, counts, elapsed, leaks + log_leaks, error)


def _texts_of_exception(exc: BaseException) -> Iterator[tuple[str, str]]:
    """Every text reachable from *exc*: str, repr, args, attributes, through its chain."""
    seen: set[int] = set()
    pending: list[tuple[str, object, int]] = [("exception", exc, 0)]
    while pending:
        where, value, depth = pending.pop()
        if id(value) in seen or depth > 6:
            continue
        seen.add(id(value))
        if isinstance(value, (str, bytes)):
            yield where, value.decode("latin-1") if isinstance(value, bytes) else value
            continue
        if isinstance(value, (int, float, bool, type(None))):
            continue
        try:
            yield where, repr(value)
            yield where, str(value)
        except Exception:  # noqa: BLE001, S112 - a repr that fails hides nothing
            continue
        children = _children(where, value)
        pending += [(name, child, depth + 1) for name, child in children]


def _children(where: str, value: object) -> list[tuple[str, object]]:
    """What a leak could hide in under *value*: args, chain, items, attributes."""
    children: list[tuple[str, object]] = []
    if isinstance(value, BaseException):
        children += [(f"{where}.args", arg) for arg in value.args]
        children += [(f"{where}.__cause__", value.__cause__)]
        children += [(f"{where}.__context__", value.__context__)]
    if isinstance(value, dict):
        children += [(f"{where}[{key!r}]", item) for key, item in value.items()]
        children += [(f"{where}.keys", key) for key in value]
    elif isinstance(value, (list, tuple, set, frozenset)):
        children += [(f"{where}[]", item) for item in value]
    else:
        attributes = getattr(value, "__dict__", None)
        if isinstance(attributes, dict):
            children += [(f"{where}.{key}", item) for key, item in attributes.items()]
        for slot in getattr(type(value), "__slots__", ()) or ():
            if isinstance(slot, str) and hasattr(value, slot):
                children.append((f"{where}.{slot}", getattr(value, slot)))
    return children


def leaks_in_exception(exc: BaseException) -> tuple[str, ...]:
    """Where in *exc* (text, chain, attributes, formatted traceback) a secret shows up."""
    found = []
    for where, text in _texts_of_exception(exc):
        found += [where for secret in SECRETS if secret in text]
    formatted = "".join(traceback.format_exception(exc))
    found += ["traceback" for secret in SECRETS if secret in formatted]
    return tuple(dict.fromkeys(found))


def leaks_in_logs(records: list[logging.LogRecord]) -> tuple[str, ...]:
    found = []
    for record in records:
        texts = [record.getMessage(), *map(repr, _args_of(record))]
        if any(secret in text for text in texts for secret in SECRETS):
            found.append(f"{record.name}: {record.msg!r}")
    return tuple(found)


def _args_of(record: logging.LogRecord) -> tuple[object, ...]:
    args = record.args
    if isinstance(args, dict):
        return tuple(args.values())
    return tuple(args or ())


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _all_logs() -> Iterator[list[logging.LogRecord]]:
    """Collect every log record of every logger at DEBUG while the block runs."""
    root = logging.getLogger()
    handler, level = _Collect(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
