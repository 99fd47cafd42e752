"""The benchmark scenarios, one function each; `SCENARIOS` lists them in the table's order.

Each function takes the run's `Context` and returns its table rows, the baseline first. Where
a scenario measures time per call, its repetition makes `Context.calls` calls and returns the
mean in µs; the row's median is the median of those means. Throughput scenarios return calls
(or rows) per second, so their ratios read "higher is better".

Servers: every scenario over sockets talks to the bare `Responder`, not the emulator. The
emulator journals, validates and routes every request through an ASGI app, which costs more
per request than the SDK's whole overhead; against it every client would look the same. The
responder's own CPU time per request is in the table beside each row, so a reader can check
that it stays well below the clients' times.
"""

from __future__ import annotations

import asyncio
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import httpx

from authing_mfa import AsyncMfaClient, MfaClient

from ._contenders import (
    EXPECTED_STATUS,
    SECRET,
    STATUS_PATH,
    TOKEN_PATH,
    USER_ID,
    USER_POOL_ID,
    fetch_token,
    headers,
    parse_envelope,
)
from ._report import Row, Target, rows_for
from ._responder import STATUS_BODY, TOKEN_BODY, Responder
from ._timing import Measured, ainterleave, interleave

# (quick, full) sizes of one repetition.
_SIZES: dict[str, tuple[int, int]] = {
    "async_c1": (100, 500),
    "async_c32": (160, 1600),
    "sync_1": (100, 500),
    "sync_requests": (100, 500),
    "sync_16": (160, 1600),
    "cpu_mock": (300, 2000),
    "cold_client": (1000, 1000),
    "bulk_import": (200, 10_000),
    "import_time": (0, 0),  # its repetitions are interpreters, see import_time
}
_BULK_CONCURRENCY = 32
_BULK_REPETITIONS = 5  # the minimum: 10 000 rows through raw httpx take a while
_THREADS = 16


async def _nothing() -> None:
    """A warm-up that does nothing, for scenarios whose every repetition starts cold."""


@dataclass
class Context:
    """What every scenario gets: the responder, the mode, and the repetitions to record."""

    responder: Responder
    quick: bool
    repetitions: int

    def calls(self, scenario: str) -> int:
        """How many calls (or rows) one repetition of *scenario* makes."""
        quick, full = _SIZES[scenario]
        return quick if self.quick else full


def _sdk_async(url: str, **options: Any) -> AsyncMfaClient:
    return AsyncMfaClient(user_pool_id=USER_POOL_ID, secret=SECRET, host=url, **options)


def _measure(
    ctx: Context,
    contenders: dict[str, Callable[[], object]],
    measure: Callable[[Callable[[], object]], float],
) -> dict[str, Measured]:
    """Check each contender's answer once, then interleave ``measure(call)`` repetitions."""
    for call in contenders.values():
        _check(call())
    return interleave(
        {name: functools.partial(measure, call) for name, call in contenders.items()},
        ctx.repetitions,
        responder=ctx.responder,
    )


async def _ameasure(
    ctx: Context,
    contenders: dict[str, Callable[[], Awaitable[object]]],
    measure: Callable[[Callable[[], Awaitable[object]]], Awaitable[float]],
    *,
    attribute_server: bool = True,
) -> dict[str, Measured]:
    """`_measure` for coroutines; without *attribute_server* no responder cost is read."""
    for call in contenders.values():
        _check(await call())
    return await ainterleave(
        {name: functools.partial(measure, call) for name, call in contenders.items()},
        ctx.repetitions,
        responder=ctx.responder if attribute_server else None,
    )


def _check(result: object) -> None:
    """Fail the scenario if a contender read something other than the expected status."""
    if isinstance(result, dict):
        ok = result == EXPECTED_STATUS
    else:
        ok = getattr(result, "otp", None) is True and getattr(result, "face", None) is False
    if not ok:
        raise RuntimeError(f"a contender read {result!r}, not {EXPECTED_STATUS!r}")


async def _per_call_us(
    call: Callable[[], Awaitable[object]], calls: int, concurrency: int
) -> float:
    """Make *calls* calls from *concurrency* tasks at once; return the wall µs per call."""

    async def worker(count: int) -> None:
        for _ in range(count):
            await call()

    started = time.perf_counter()
    if concurrency == 1:
        await worker(calls)
    else:
        await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
    return (time.perf_counter() - started) / (calls // concurrency * concurrency) * 1e6


def get_status_async_c1(ctx: Context) -> list[Row]:
    """``get_status`` awaited one call at a time: raw httpx.AsyncClient vs AsyncMfaClient."""
    return asyncio.run(_get_status_async(ctx, "async_c1", 1))


def get_status_async_c32(ctx: Context) -> list[Row]:
    """``get_status`` from 32 tasks sharing one client: raw httpx.AsyncClient vs the SDK."""
    return asyncio.run(_get_status_async(ctx, "async_c32", 32))


async def _get_status_async(ctx: Context, scenario: str, concurrency: int) -> list[Row]:
    import aiohttp  # noqa: PLC0415 - a reference contender only

    url = ctx.responder.url
    hdrs = headers(fetch_token(url))
    calls = ctx.calls(scenario)
    async with (
        httpx.AsyncClient(base_url=url) as raw,
        _sdk_async(url) as sdk,
        aiohttp.ClientSession(base_url=url) as session,
    ):

        async def raw_httpx() -> object:
            answer = await raw.get(STATUS_PATH, headers=hdrs)
            return parse_envelope(answer.content)

        async def sdk_call() -> object:
            return await sdk.get_status(USER_ID)

        async def raw_aiohttp() -> object:
            async with session.get(STATUS_PATH, headers=hdrs) as answer:
                return parse_envelope(await answer.read())

        contenders = {
            "httpx.AsyncClient": raw_httpx,
            "AsyncMfaClient": sdk_call,
            "aiohttp.ClientSession (reference)": raw_aiohttp,
        }
        measured = await _ameasure(
            ctx, contenders, lambda call: _per_call_us(call, calls, concurrency)
        )
    return rows_for(
        scenario,
        f"get_status async, concurrency {concurrency}",
        "µs/call",
        measured,
        baseline="httpx.AsyncClient",
        targets={"AsyncMfaClient": Target("ratio_at_most", 1.10)},
    )


def _sync_per_call_us(call: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def get_status_sync_1_thread(ctx: Context) -> list[Row]:
    """Blocking ``get_status`` from one thread: raw httpx.Client vs MfaClient."""
    url = ctx.responder.url
    hdrs = headers(fetch_token(url))
    calls = ctx.calls("sync_1")
    with (
        httpx.Client(base_url=url) as raw,
        MfaClient(user_pool_id=USER_POOL_ID, secret=SECRET, host=url) as sdk,
    ):

        def raw_httpx() -> object:
            return parse_envelope(raw.get(STATUS_PATH, headers=hdrs).content)

        def sdk_call() -> object:
            return sdk.get_status(USER_ID)

        contenders = {"httpx.Client": raw_httpx, "MfaClient": sdk_call}
        measured = _measure(ctx, contenders, lambda call: _sync_per_call_us(call, calls))
    return rows_for(
        "sync_1",
        "get_status sync, 1 thread",
        "µs/call",
        measured,
        baseline="httpx.Client",
        targets={"MfaClient": Target("ratio_at_most", 1.25)},
    )


def get_status_sync_vs_requests(ctx: Context) -> list[Row]:
    """Blocking ``get_status`` from one thread: requests.Session (Django today) vs MfaClient."""
    import requests  # noqa: PLC0415 - the bench extra's; only this scenario needs it

    url = ctx.responder.url
    hdrs = headers(fetch_token(url))
    calls = ctx.calls("sync_requests")
    with (
        requests.Session() as session,
        MfaClient(user_pool_id=USER_POOL_ID, secret=SECRET, host=url) as sdk,
    ):
        status_url = url + STATUS_PATH

        def raw_requests() -> object:
            return parse_envelope(session.get(status_url, headers=hdrs, timeout=10).content)

        def sdk_call() -> object:
            return sdk.get_status(USER_ID)

        contenders = {"requests.Session": raw_requests, "MfaClient": sdk_call}
        measured = _measure(ctx, contenders, lambda call: _sync_per_call_us(call, calls))
    return rows_for(
        "sync_requests",
        "get_status sync, 1 thread, vs requests",
        "µs/call",
        measured,
        baseline="requests.Session",
        targets={"MfaClient": Target("ratio_at_most", 1.00)},
    )


def get_status_sync_16_threads(ctx: Context) -> list[Row]:
    """Blocking ``get_status`` from 16 threads sharing one client; throughput in calls/s."""
    url = ctx.responder.url
    hdrs = headers(fetch_token(url))
    calls = ctx.calls("sync_16")
    per_thread = calls // _THREADS
    with (
        ThreadPoolExecutor(_THREADS) as pool,
        httpx.Client(base_url=url) as raw,
        MfaClient(user_pool_id=USER_POOL_ID, secret=SECRET, host=url) as sdk,
    ):

        def raw_httpx() -> object:
            return parse_envelope(raw.get(STATUS_PATH, headers=hdrs).content)

        def sdk_call() -> object:
            return sdk.get_status(USER_ID)

        def throughput(call: Callable[[], object]) -> float:
            def thread() -> None:
                for _ in range(per_thread):
                    call()

            started = time.perf_counter()
            futures = [pool.submit(thread) for _ in range(_THREADS)]
            wait(futures)
            for future in futures:
                future.result()  # re-raise a failed call
            return per_thread * _THREADS / (time.perf_counter() - started)

        contenders = {"httpx.Client": raw_httpx, "MfaClient": sdk_call}
        measured = _measure(ctx, contenders, throughput)
    return rows_for(
        "sync_16",
        f"get_status sync, {_THREADS} threads, one shared client",
        "calls/s",
        measured,
        baseline="httpx.Client",
        targets={"MfaClient": Target("ratio_at_least", 1.0)},
    )


def cpu_per_call_mock(ctx: Context) -> list[Row]:
    """CPU per ``get_status`` with no sockets (`httpx.MockTransport`): the SDK's own cost.

    Both contenders send through the same in-process handler, so what differs is only the
    code between the caller and the transport: the SDK's headers, token check, retry
    wrapper, envelope decoding and record conversion. Measured as this process's CPU time
    (`time.process_time`), which a busy machine disturbs less than wall time.
    """
    return asyncio.run(_cpu_per_call_mock(ctx))


def _mock_handler(request: httpx.Request) -> httpx.Response:
    content = TOKEN_BODY if request.url.path == TOKEN_PATH else STATUS_BODY
    return httpx.Response(200, content=content, headers={"content-type": "application/json"})


async def _cpu_per_call_mock(ctx: Context) -> list[Row]:
    host = "http://responder.invalid"
    calls = ctx.calls("cpu_mock")
    hdrs = headers("mock-token")
    async with (
        httpx.AsyncClient(base_url=host, transport=httpx.MockTransport(_mock_handler)) as raw,
        _sdk_async(host, transport=httpx.MockTransport(_mock_handler)) as sdk,
    ):

        async def raw_httpx() -> object:
            answer = await raw.get(STATUS_PATH, headers=hdrs)
            return parse_envelope(answer.content)

        async def sdk_call() -> object:
            return await sdk.get_status(USER_ID)

        async def cpu_us(call: Callable[[], Awaitable[object]]) -> float:
            started = time.process_time()
            for _ in range(calls):
                await call()
            return (time.process_time() - started) / calls * 1e6

        contenders = {"httpx.AsyncClient + MockTransport": raw_httpx, "AsyncMfaClient": sdk_call}
        measured = await _ameasure(ctx, contenders, cpu_us, attribute_server=False)
    base = statistics.median(measured["httpx.AsyncClient + MockTransport"].samples)
    difference = statistics.median(measured["AsyncMfaClient"].samples) - base
    return rows_for(
        "cpu_mock",
        "CPU per call in process (MockTransport)",
        "µs/call CPU",
        measured,
        baseline="httpx.AsyncClient + MockTransport",
        targets={"AsyncMfaClient": Target("delta_at_most", 25.0)},
        notes={"AsyncMfaClient": {"overhead_µs": round(difference, 1)}},
    )


def cold_client(ctx: Context) -> list[Row]:
    """1 000 concurrent ``get_status`` calls on a client that has no token yet.

    Each repetition builds a new `AsyncMfaClient` and starts every call at once; the
    responder counts the token requests they cause, which must be exactly one.
    """
    return asyncio.run(_cold_client(ctx))


async def _cold_client(ctx: Context) -> list[Row]:
    url, calls = ctx.responder.url, ctx.calls("cold_client")
    walls: list[float] = []

    async def repetition() -> float:
        before = ctx.responder.stats()["tokenRequests"]
        started = time.perf_counter()
        async with _sdk_async(url) as sdk:
            results = await asyncio.gather(*(sdk.get_status(USER_ID) for _ in range(calls)))
        walls.append((time.perf_counter() - started) * 1e3)
        _check(results[-1])
        return ctx.responder.stats()["tokenRequests"] - before

    name = f"AsyncMfaClient, {calls:,} calls at once"
    measured = await ainterleave(
        {name: repetition},
        ctx.repetitions,
        responder=ctx.responder,
        warmup={name: _nothing},  # every repetition is cold by design
    )
    recorded = walls[-ctx.repetitions :]
    return rows_for(
        "cold_client",
        f"{calls:,} concurrent calls on a cold client",
        "token requests",
        measured,
        baseline=None,
        targets={name: Target("exactly", 1)},
        notes={name: {"wall_ms_median": round(statistics.median(recorded), 1)}},
    )


def bulk_import(ctx: Context) -> list[Row]:
    """Import rows at concurrency 32: a hand-written raw-httpx loop vs ``import_totp_many``.

    Every repetition of every contender runs in a fresh interpreter (`_bulk_child`), so its
    peak RSS is its own; throughput is rows per second over the timed rows. Against the
    responder rather than the emulator: the emulator's per-request cost (an ASGI app, the
    journal, upserting users) would dominate and flatten the ratio.
    """
    rows = ctx.calls("bulk_import")
    peaks: dict[str, list[float]] = {}
    growth: dict[str, list[float]] = {}
    children = {
        "raw httpx loop, 32 tasks": "raw-httpx",
        "import_totp_many(concurrency=32)": "sdk",
        "raw aiohttp loop, 32 tasks (reference)": "raw-aiohttp",
    }

    def repetition(name: str) -> float:
        line = subprocess.run(  # noqa: S603 - our interpreter, our module
            [
                sys.executable,
                "-m",
                "benchmarks._bulk_child",
                children[name],
                ctx.responder.url,
                str(rows),
                str(_BULK_CONCURRENCY),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = _last_json_line(line)
        peaks.setdefault(name, []).append(result["peak_rss_kib"] / 1024)
        growth.setdefault(name, []).append(
            (result["peak_rss_kib"] - result["rss_before_kib"]) / 1024
        )
        return float(result["imported"]) / float(result["seconds"])

    measured = interleave(
        {name: (lambda name=name: repetition(name)) for name in children},
        _BULK_REPETITIONS,
        responder=ctx.responder,
        warmup={name: (lambda: None) for name in children},  # each child warms itself up
    )
    return rows_for(
        "bulk_import",
        f"bulk import of {rows:,} rows, concurrency {_BULK_CONCURRENCY}",
        "rows/s",
        measured,
        baseline="raw httpx loop, 32 tasks",
        targets={"import_totp_many(concurrency=32)": Target("ratio_at_least", 0.9)},
        notes={
            name: {
                "peak_RSS_MiB": round(statistics.median(peaks[name]), 1),
                "RSS_growth_MiB": round(statistics.median(growth[name]), 1),
            }
            for name in children
        },
    )


def _last_json_line(stdout: str) -> dict[str, Any]:
    import json  # noqa: PLC0415

    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


def import_time(ctx: Context) -> list[Row]:
    """``import authing_mfa`` vs ``import httpx``, each timed inside a fresh interpreter.

    The clock runs around the import statement alone, so interpreter start-up, identical for
    both, does not dilute the ratio. Many interpreters make the median (31 in a full run,
    the usual repetitions in quick mode). Bytecode is cached for both alike, as an installed
    wheel has it: the children write and read it under a temporary ``PYTHONPYCACHEPREFIX``
    (filled by one unrecorded run of each), whatever ``PYTHONDONTWRITEBYTECODE`` says, so an
    editable install without ``__pycache__`` is not charged for compiling itself every run.
    """
    repetitions = ctx.repetitions if ctx.quick else max(ctx.repetitions, 31)
    code = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache

        def run(module: str) -> float:
            out = subprocess.run(  # noqa: S603 - our interpreter
                [sys.executable, "-c", code.format(module)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout
            return float(out.strip()) * 1e3

        measured = interleave(
            {
                "import httpx": lambda: run("httpx"),
                "import authing_mfa": lambda: run("authing_mfa"),
            },
            repetitions,
        )
    return rows_for(
        "import_time",
        "import in a fresh interpreter",
        "ms",
        measured,
        baseline="import httpx",
        targets={"import authing_mfa": Target("ratio_at_most", 1.3)},
    )


SCENARIOS: dict[str, Callable[[Context], list[Row]]] = {
    "async_c1": get_status_async_c1,
    "async_c32": get_status_async_c32,
    "sync_1": get_status_sync_1_thread,
    "sync_requests": get_status_sync_vs_requests,
    "sync_16": get_status_sync_16_threads,
    "cpu_mock": cpu_per_call_mock,
    "cold_client": cold_client,
    "bulk_import": bulk_import,
    "import_time": import_time,
}


def headers_sent(ctx: Context) -> dict[str, dict[str, str]]:
    """Make one ``get_status`` with every socket contender; return the headers each sent.

    Only the protocol's common headers, ``user-agent`` and ``authorization`` are kept: the ones
    every contender must send alike. Headers an HTTP library adds by itself (``accept``,
    ``accept-encoding``...) are left out, since no user sets them either.
    """
    import aiohttp  # noqa: PLC0415
    import requests  # noqa: PLC0415

    url = ctx.responder.url
    token = fetch_token(url)
    hdrs = headers(token)
    keep = set(hdrs)
    seen: dict[str, dict[str, str]] = {}

    def record(name: str) -> None:
        sent = ctx.responder.last_headers()
        seen[name] = {key: value for key, value in sorted(sent.items()) if key in keep}

    async def run_async() -> None:
        async with httpx.AsyncClient(base_url=url) as raw:
            parse_envelope((await raw.get(STATUS_PATH, headers=hdrs)).content)
        record("httpx.AsyncClient")
        async with (
            aiohttp.ClientSession(base_url=url) as session,
            session.get(STATUS_PATH, headers=hdrs) as answer,
        ):
            parse_envelope(await answer.read())
        record("aiohttp.ClientSession")
        async with _sdk_async(url) as sdk:
            await sdk.get_status(USER_ID)
        record("AsyncMfaClient")

    asyncio.run(run_async())
    with httpx.Client(base_url=url) as client:
        parse_envelope(client.get(STATUS_PATH, headers=hdrs).content)
    record("httpx.Client")
    with requests.Session() as session:
        parse_envelope(session.get(url + STATUS_PATH, headers=hdrs, timeout=10).content)
    record("requests.Session")
    with MfaClient(user_pool_id=USER_POOL_ID, secret=SECRET, host=url) as sdk:
        sdk.get_status(USER_ID)
    record("MfaClient")
    return seen
