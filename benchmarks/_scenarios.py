"""The benchmark scenarios, one function each; `SCENARIOS` lists them in the table's order.

Each function takes the run's `Context` and returns its table rows, the baseline first. Where
a scenario measures time per call, its repetition makes `Context.calls` calls and returns the
mean in µs; the row's median is the median of those means. Throughput scenarios return calls
(or rows) per second, so their ratios read "higher is better".

Baselines: under asyncio the SDK sends through aiohttp, so the async and bulk scenarios divide
by hand-written aiohttp code on one `aiohttp.ClientSession` (same headers, same envelope
parsing); raw httpx stays as a reference row where it is cheap. The blocking scenarios divide
by `httpx.Client` (and `requests.Session`), what blocking code uses today.

Servers: every scenario over sockets talks to the bare `Responder`, not the emulator. The
emulator journals, validates and routes every request through an ASGI app, which costs more
per request than the SDK's whole overhead; against it every client would look the same. The
responder's own CPU time per request is in the table beside each row, so a reader can check
that it stays well below the clients' times.

Children: scenarios whose every repetition must start cold or own its peak memory (bulk runs,
the first call, the import) run in fresh interpreters, which read and write bytecode under
the run's own ``PYTHONPYCACHEPREFIX`` (see `Context.child_env`), as an installed wheel has it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
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
    "first_call": (1, 1),  # one call per interpreter, see first_call
    "bulk_import": (200, 10_000),
    "bulk_status": (200, 10_000),
    "bulk_unbind": (200, 10_000),
    "import_time": (0, 0),  # its repetitions are interpreters, see import_time
}
BULK_CONCURRENCY = 32
_BULK_REPETITIONS = 5  # the minimum: 10 000 rows through raw httpx take a while
_THREADS = 16
STALL_TARGET_MS = 5.0
CPU_OVERHEAD_TARGET_US = 20.0


async def _nothing() -> None:
    """A warm-up that does nothing, for scenarios whose every repetition starts cold."""


@dataclass
class Context:
    """What every scenario gets: the responder, the mode, and the repetitions to record.

    ``pycache`` is a folder for the bytecode of every child interpreter of the run (see
    `child_env`); ``ca_bundle`` (made on first use) trusts the responder's TLS certificate.
    """

    responder: Responder
    quick: bool
    repetitions: int
    pycache: str
    _bundle: str = field(default="", init=False)
    _warm: set[tuple[str, str]] = field(default_factory=set, init=False)

    def calls(self, scenario: str) -> int:
        """How many calls (or rows) one repetition of *scenario* makes."""
        quick, full = _SIZES[scenario]
        return quick if self.quick else full

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment of a child interpreter: bytecode cached, as an installed wheel has it.

        Children write and read it under ``pycache`` whatever ``PYTHONDONTWRITEBYTECODE`` says,
        so an editable install without ``__pycache__`` is not charged for compiling itself
        in every child; the first (unrecorded) child of each kind fills the cache.
        """
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = self.pycache
        env.update(extra)
        return env

    def warm_once(self, module: str, contender: str, run: Callable[[], object]) -> None:
        """Run *run*, an unrecorded child, unless one of *module*'s *contender* already ran.

        Every child of a kind imports the same modules: the first fills the bytecode cache
        and the operating system's file cache for all that follow, in any scenario.
        """
        if (module, contender) not in self._warm:
            run()
            self._warm.add((module, contender))

    def ca_bundle(self) -> str:
        """A CA file holding certifi's CAs and the responder's: ``SSL_CERT_FILE`` for TLS.

        Empty when the responder serves no TLS (``trustme`` is not installed).
        """
        if not self._bundle and self.responder.ca_file:
            import certifi  # noqa: PLC0415 - httpx's dependency

            bundle = Path(self.pycache) / "ca-bundle.pem"
            bundle.write_text(
                Path(certifi.where()).read_text(encoding="ascii")
                + Path(self.responder.ca_file).read_text(encoding="ascii"),
                encoding="ascii",
            )
            self._bundle = str(bundle)
        return self._bundle


def sdk_async(url: str, **options: Any) -> AsyncMfaClient:
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
    contenders: Mapping[str, Callable[[], Awaitable[object]]],
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


async def per_call_us(
    call: Callable[[], Awaitable[object]],
    calls: int,
    concurrency: int,
    cpu: list[float] | None = None,
) -> float:
    """Make *calls* calls from *concurrency* tasks at once; return the wall µs per call.

    When *cpu* is given, this process's CPU µs per call (`time.process_time`) is appended.
    """

    async def worker(count: int) -> None:
        for _ in range(count):
            await call()

    made = calls // concurrency * concurrency
    cpu_started = time.process_time()
    started = time.perf_counter()
    if concurrency == 1:
        await worker(calls)
    else:
        await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
    wall = (time.perf_counter() - started) / made * 1e6
    if cpu is not None:
        cpu.append((time.process_time() - cpu_started) / made * 1e6)
    return wall


def get_status_async_c1(ctx: Context) -> list[Row]:
    """``get_status`` awaited one call at a time: raw aiohttp vs AsyncMfaClient."""
    return asyncio.run(_get_status_async(ctx, "async_c1", 1))


def get_status_async_c32(ctx: Context) -> list[Row]:
    """``get_status`` from 32 tasks sharing one client: raw aiohttp vs AsyncMfaClient."""
    return asyncio.run(_get_status_async(ctx, "async_c32", 32))


AIOHTTP = "aiohttp.ClientSession"
HTTPX_REFERENCE = "httpx.AsyncClient (reference)"


async def _get_status_async(ctx: Context, scenario: str, concurrency: int) -> list[Row]:
    url = ctx.responder.url
    hdrs = headers(fetch_token(url))
    calls = ctx.calls(scenario)
    async with (
        aiohttp.ClientSession(base_url=url) as session,
        sdk_async(url) as sdk,
        httpx.AsyncClient(base_url=url) as raw,
    ):

        async def raw_aiohttp() -> object:
            async with session.get(STATUS_PATH, headers=hdrs) as answer:
                return parse_envelope(await answer.read())

        async def sdk_call() -> object:
            return await sdk.get_status(USER_ID)

        async def raw_httpx() -> object:
            answer = await raw.get(STATUS_PATH, headers=hdrs)
            return parse_envelope(answer.content)

        contenders = {AIOHTTP: raw_aiohttp, "AsyncMfaClient": sdk_call, HTTPX_REFERENCE: raw_httpx}
        cpu: dict[str, list[float]] = {name: [] for name in contenders}
        for call in contenders.values():
            _check(await call())
        measured = await ainterleave(
            {
                name: functools.partial(per_call_us, call, calls, concurrency, cpu[name])
                for name, call in contenders.items()
            },
            ctx.repetitions,
            responder=ctx.responder,
        )
    # The warm-up round appended too: keep the recorded repetitions' CPU only.
    cpu_median = {name: statistics.median(cpu[name][-ctx.repetitions :]) for name in cpu}
    return rows_for(
        scenario,
        f"get_status async, concurrency {concurrency}",
        "µs/call",
        measured,
        baseline=AIOHTTP,
        targets={"AsyncMfaClient": Target("ratio_at_most", 1.10)},
        notes={
            name: {
                "client_CPU_µs/call": round(value, 1),
                "over_aiohttp_µs": round(value - cpu_median[AIOHTTP], 1),
            }
            if name != AIOHTTP
            else {"client_CPU_µs/call": round(value, 1)}
            for name, value in cpu_median.items()
        },
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
        targets={"MfaClient": Target("ratio_at_most", 1.00)},
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


def mock_handler(request: httpx.Request) -> httpx.Response:
    content = TOKEN_BODY if request.url.path == TOKEN_PATH else STATUS_BODY
    return httpx.Response(200, content=content, headers={"content-type": "application/json"})


async def _cpu_per_call_mock(ctx: Context) -> list[Row]:
    host = "http://responder.invalid"
    calls = ctx.calls("cpu_mock")
    hdrs = headers("mock-token")
    async with (
        httpx.AsyncClient(base_url=host, transport=httpx.MockTransport(mock_handler)) as raw,
        sdk_async(host, transport=httpx.MockTransport(mock_handler)) as sdk,
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
        targets={"AsyncMfaClient": Target("delta_at_most", CPU_OVERHEAD_TARGET_US)},
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
        async with sdk_async(url) as sdk:
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


BULK_SDK = {
    "import": "import_totp_many(concurrency=32)",
    "status": "get_status_many(concurrency=32)",
    "unbind": 'unassociate_mfa_many(mfa_type="otp", concurrency=32)',
}
RAW_AIOHTTP_LOOP = "raw aiohttp loop, 32 tasks"
RAW_HTTPX_LOOP = "raw httpx loop, 32 tasks (reference)"
BULK_TARGET = 0.80


def run_child(ctx: Context, module: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run ``python -m benchmarks.MODULE ARGS`` in a fresh interpreter; return its JSON line."""
    done = subprocess.run(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env or ctx.child_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.{module} {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bulk_child_args(ctx: Context, operation: str, contender: str, rows: int) -> list[str]:
    """The arguments of one `_bulk_child` run against the responder."""
    return [operation, contender, ctx.responder.url, str(rows), str(BULK_CONCURRENCY)]


def _bulk(ctx: Context, scenario: str, operation: str, title: str, noun: str) -> list[Row]:
    """Rows per second of *operation* at concurrency 32: raw aiohttp loop vs the SDK's bulk call.

    Every repetition of every contender runs in a fresh interpreter (`_bulk_child`), so its
    peak RSS is its own; throughput is rows per second over the timed rows. The first child
    of each kind in the run, short and unrecorded, fills the bytecode cache. Against the responder
    rather than the emulator: the emulator's per-request cost (an ASGI app, the journal,
    upserting users) would dominate and flatten the ratio.
    """
    rows = ctx.calls(scenario)
    peaks: dict[str, list[float]] = {}
    growth: dict[str, list[float]] = {}
    children = {RAW_AIOHTTP_LOOP: "raw-aiohttp", BULK_SDK[operation]: "sdk"}
    if operation == "import":
        children[RAW_HTTPX_LOOP] = "raw-httpx"

    def repetition(name: str) -> float:
        result = run_child(
            ctx, "_bulk_child", *bulk_child_args(ctx, operation, children[name], rows)
        )
        peaks.setdefault(name, []).append(result["peak_rss_kib"] / 1024)
        growth.setdefault(name, []).append(
            (result["peak_rss_kib"] - result["rss_before_kib"]) / 1024
        )
        return float(result["done"]) / float(result["seconds"])

    def warmup(name: str) -> None:
        args = bulk_child_args(ctx, operation, children[name], BULK_CONCURRENCY)
        ctx.warm_once("_bulk_child", children[name], lambda: run_child(ctx, "_bulk_child", *args))

    measured = interleave(
        {name: functools.partial(repetition, name) for name in children},
        _BULK_REPETITIONS,
        responder=ctx.responder,
        warmup={name: functools.partial(warmup, name) for name in children},
    )
    return rows_for(
        scenario,
        f"{title} of {rows:,} {noun}, concurrency {BULK_CONCURRENCY}",
        "rows/s",
        measured,
        baseline=RAW_AIOHTTP_LOOP,
        targets={BULK_SDK[operation]: Target("ratio_at_least", BULK_TARGET)},
        notes={
            name: {
                "peak_RSS_MiB": round(statistics.median(peaks[name]), 1),
                "RSS_growth_MiB": round(statistics.median(growth[name]), 1),
            }
            for name in children
        },
    )


def bulk_import(ctx: Context) -> list[Row]:
    """``import_totp_many`` vs a hand-written aiohttp loop of 32 tasks (and an httpx one)."""
    return _bulk(ctx, "bulk_import", "import", "bulk import", "rows")


def bulk_status(ctx: Context) -> list[Row]:
    """``get_status_many`` vs a hand-written aiohttp loop of 32 tasks."""
    return _bulk(ctx, "bulk_status", "status", "bulk status", "users")


def bulk_unbind(ctx: Context) -> list[Row]:
    """``unassociate_mfa_many(..., mfa_type="otp")`` vs a hand-written aiohttp loop of 32 tasks."""
    return _bulk(ctx, "bulk_unbind", "unbind", "bulk unbind", "users")


NO_CLIENT = "no client (the loop's own lag)"
FIRST_CALL_CONTENDERS = {
    NO_CLIENT: ("none", False),
    "AsyncMfaClient, http": ("sdk", False),
    "AsyncMfaClient, https": ("sdk", True),
    "raw aiohttp, http (reference)": ("raw-aiohttp", False),
    "raw aiohttp, https (reference)": ("raw-aiohttp", True),
}


def first_call_child(ctx: Context, name: str) -> tuple[list[str], dict[str, str]] | None:
    """The arguments and environment of one `_first_call` run, or None without TLS."""
    contender, tls = FIRST_CALL_CONTENDERS[name]
    if not tls:
        return [contender, ctx.responder.url], ctx.child_env()
    if not ctx.ca_bundle():
        return None
    return [contender, ctx.responder.tls_url], ctx.child_env(SSL_CERT_FILE=ctx.ca_bundle())


def first_call(ctx: Context) -> list[Row]:
    """The longest stall of the event loop while a cold client makes its first call.

    Each repetition is a fresh interpreter (`_first_call`): a probe task sleeps 1 ms at a time
    on the loop and records how late it wakes while a new `AsyncMfaClient` makes its first
    ``get_status`` (token fetch included), against the responder over http and over https.
    The baseline is the same probe with no client, the loop's own lag on this machine; the
    target is absolute. Raw aiohttp's first call, with ``aiohttp`` imported before the loop
    starts as an application would, is the reference. Without ``trustme`` (the bench extra's)
    the responder serves no TLS and the https rows are left out.
    """
    calls: dict[str, list[float]] = {}
    runs = {
        name: child
        for name in FIRST_CALL_CONTENDERS
        if (child := first_call_child(ctx, name)) is not None
    }

    def repetition(name: str) -> float:
        args, env = runs[name]
        result = run_child(ctx, "_first_call", *args, env=env)
        calls.setdefault(name, []).append(result["call_ms"])
        return float(result["max_lag_ms"])

    def warmup(name: str) -> None:
        args, env = runs[name]
        ctx.warm_once("_first_call", args[0], lambda: run_child(ctx, "_first_call", *args, env=env))

    measured = interleave(
        {name: functools.partial(repetition, name) for name in runs},
        ctx.repetitions,
        warmup={name: functools.partial(warmup, name) for name in runs},
    )
    notes: dict[str, dict[str, Any]] = {
        name: {"first_call_ms_median": round(statistics.median(calls[name]), 1)}
        for name in runs
        if name != NO_CLIENT
    }
    https = "AsyncMfaClient, https"
    if https not in runs:
        notes["AsyncMfaClient, http"]["https"] = "not measured: trustme is not installed"
    return rows_for(
        "first_call",
        "longest event-loop stall during a cold client's first call",
        "ms stall",
        measured,
        baseline=NO_CLIENT,
        targets={
            name: Target("at_most", STALL_TARGET_MS, unit="ms")
            for name in runs
            if name.startswith("AsyncMfaClient")
        },
        notes=notes,
    )


def import_time(ctx: Context) -> list[Row]:
    """``import authing_mfa`` vs ``import httpx``, each timed inside a fresh interpreter.

    The clock runs around the import statement alone, so interpreter start-up, identical for
    both, does not dilute the ratio. Many interpreters make the median (31 in a full run,
    the usual repetitions in quick mode). Bytecode is cached for both alike, as an installed
    wheel has it (`Context.child_env`; one unrecorded run of each fills the cache).
    """
    repetitions = ctx.repetitions if ctx.quick else max(ctx.repetitions, 31)
    code = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"
    env = ctx.child_env()

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
    "first_call": first_call,
    "bulk_import": bulk_import,
    "bulk_status": bulk_status,
    "bulk_unbind": bulk_unbind,
    "import_time": import_time,
}


def headers_sent(ctx: Context) -> dict[str, dict[str, str]]:
    """Make one ``get_status`` with every socket contender; return the headers each sent.

    Only the protocol's common headers, ``user-agent`` and ``authorization`` are kept: the ones
    every contender must send alike. Headers an HTTP library adds by itself (``accept``,
    ``accept-encoding``...) are left out, since no user sets them either.
    """
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
        async with sdk_async(url) as sdk:
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
