"""``python -m benchmarks --profile SCENARIO``: where one contender's time goes, under cProfile.

Each profile runs the scenario's SDK contender (and, with ``--profile-baseline``, its baseline
too, then prints where the SDK's own time exceeds the baseline's, function by function) the
way the scenario measures it, after the same warm-up, with cProfile around the measured part
only, and prints the top functions by cumulative and by own time in µs per call or per row
(`_cprofile.render`). In-process scenarios are profiled in this process; scenarios whose
repetitions are children (bulk runs, the first call) are profiled inside one such child, which
writes its statistics to a file this process reads.

The sizes are the scenario's (``--quick`` for the smaller ones). A profile is no measurement:
cProfile roughly doubles the cost of every Python call. Read it for shares and for which
functions cost what, and the table for how fast.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp
import httpx

from ._contenders import STATUS_PATH, USER_ID, fetch_token, headers, parse_envelope
from ._cprofile import capture, render, render_difference
from ._scenarios import (
    BULK_CONCURRENCY,
    FIRST_CALL_CONTENDERS,
    Context,
    bulk_child_args,
    first_call_child,
    mock_handler,
    per_call_us,
    run_child,
    sdk_async,
)


@dataclass
class Profile:
    """One profiled run: what it was, its statistics file, and how many operations it made."""

    title: str
    path: str
    operations: int
    what: str


Call = Callable[[], Awaitable[object]]


def _async_profile(
    ctx: Context, folder: str, scenario: str, concurrency: int, *, baseline: bool
) -> list[Profile]:
    calls = ctx.calls(scenario)
    path = f"{folder}/{scenario}.prof"

    async def run() -> str:
        url = ctx.responder.url
        if baseline:
            hdrs = headers(fetch_token(url))
            async with aiohttp.ClientSession(base_url=url) as session:

                async def raw_aiohttp() -> object:
                    async with session.get(STATUS_PATH, headers=hdrs) as answer:
                        return parse_envelope(await answer.read())

                return await _profiled(raw_aiohttp, "raw aiohttp.ClientSession GET")
        async with sdk_async(url) as sdk:
            return await _profiled(lambda: sdk.get_status(USER_ID), "AsyncMfaClient.get_status")

    async def _profiled(call: Call, name: str) -> str:
        await per_call_us(call, calls, concurrency)  # the warm-up round of the scenario
        with capture(path):
            await per_call_us(call, calls, concurrency)
        return name

    name = asyncio.run(run())
    title = f"{scenario}: {name}, {calls:,} calls at concurrency {concurrency}"
    return [Profile(title, path, calls // concurrency * concurrency, "call")]


def _cpu_mock_profile(ctx: Context, folder: str, *, baseline: bool) -> list[Profile]:
    calls = ctx.calls("cpu_mock")
    path = f"{folder}/cpu_mock.prof"
    host = "http://responder.invalid"

    async def run() -> str:
        transport = httpx.MockTransport(mock_handler)
        if baseline:
            hdrs = headers("mock-token")
            async with httpx.AsyncClient(base_url=host, transport=transport) as raw:

                async def raw_httpx() -> object:
                    return parse_envelope((await raw.get(STATUS_PATH, headers=hdrs)).content)

                await _profiled(raw_httpx)
                return "httpx.AsyncClient + MockTransport"
        async with sdk_async(host, transport=transport) as sdk:
            await _profiled(lambda: sdk.get_status(USER_ID))
        return "AsyncMfaClient + MockTransport"

    async def _profiled(call: Call) -> None:
        await per_call_us(call, calls, 1)
        with capture(path):
            await per_call_us(call, calls, 1)

    name = asyncio.run(run())
    return [Profile(f"cpu_mock: {name}, {calls:,} calls", path, calls, "call")]


def _bulk_profile(
    ctx: Context, folder: str, scenario: str, operation: str, *, baseline: bool
) -> list[Profile]:
    rows = ctx.calls(scenario)
    contender = "raw-aiohttp" if baseline else "sdk"
    path = f"{folder}/{scenario}.prof"
    # An unprofiled child first, so the profiled one reads cached bytecode like the scenario's.
    args = bulk_child_args(ctx, operation, contender, BULK_CONCURRENCY)
    ctx.warm_once("_bulk_child", contender, lambda: run_child(ctx, "_bulk_child", *args))
    run_child(
        ctx, "_bulk_child", *bulk_child_args(ctx, operation, contender, rows), "--profile", path
    )
    title = f"{scenario}: {contender}, {rows:,} rows at concurrency {BULK_CONCURRENCY}"
    return [Profile(title, path, rows, "row")]


def _first_call_profile(ctx: Context, folder: str, *, baseline: bool) -> list[Profile]:
    profiles: list[Profile] = []
    for name in FIRST_CALL_CONTENDERS:
        wanted = name.startswith("raw aiohttp") if baseline else name.startswith("AsyncMfa")
        child = first_call_child(ctx, name)
        if not wanted or child is None:
            continue
        args, env = child
        path = f"{folder}/first_call_{len(profiles)}.prof"
        warm = functools.partial(run_child, ctx, "_first_call", *args, env=env)
        ctx.warm_once("_first_call", args[0], warm)
        result = run_child(ctx, "_first_call", *args, "--profile", path, env=env)
        title = (
            f"first_call: {name}, one cold first call (longest stall "
            f"{result['max_lag_ms']:.1f} ms under the profiler)"
        )
        profiles.append(Profile(title, path, 1, "call"))
    return profiles


class _Profiler(Protocol):
    def __call__(self, ctx: Context, folder: str, *, baseline: bool) -> list[Profile]: ...


PROFILES: dict[str, _Profiler] = {
    "async_c1": functools.partial(_async_profile, scenario="async_c1", concurrency=1),
    "async_c32": functools.partial(_async_profile, scenario="async_c32", concurrency=32),
    "cpu_mock": _cpu_mock_profile,
    "first_call": _first_call_profile,
    "bulk_import": functools.partial(_bulk_profile, scenario="bulk_import", operation="import"),
    "bulk_status": functools.partial(_bulk_profile, scenario="bulk_status", operation="status"),
    "bulk_unbind": functools.partial(_bulk_profile, scenario="bulk_unbind", operation="unbind"),
}


def profile(ctx: Context, scenario: str, *, compare: bool, top: int) -> str:
    """Profile *scenario*'s SDK contender; return the report to print.

    With *compare*, profile its baseline too, and add the baseline's tables and where the
    SDK's own time per call or row exceeds the baseline's, function by function.
    """
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as folder:
        sdk_folder, base_folder = Path(folder, "sdk"), Path(folder, "baseline")
        sdk_folder.mkdir()
        base_folder.mkdir()
        runs = PROFILES[scenario](ctx, str(sdk_folder), baseline=False)
        bases = PROFILES[scenario](ctx, str(base_folder), baseline=True) if compare else []
        parts = []
        for run in runs + bases:
            parts += [
                f"## {run.title}",
                "",
                render(run.path, run.operations, what=run.what, top=top),
                "",
            ]
        for run, base in zip(runs, bases, strict=False):
            parts += [
                f"## {scenario}: the SDK's profile over its baseline's",
                "",
                render_difference(
                    (run.path, run.operations), (base.path, base.operations), what=run.what, top=top
                ),
                "",
            ]
        if not runs:
            parts.append(f"{scenario}: nothing to profile here (no TLS without trustme?)")
    return "\n".join(parts)
