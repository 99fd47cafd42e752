"""One repetition of the first-call scenario: how long a cold client's first call stalls the loop.

Run as ``python -m benchmarks._first_call CONTENDER URL [--profile PATH]``; prints one JSON
line: ``{"max_lag_ms", "call_ms", "wakes"}``. Each repetition is a fresh interpreter, so
whatever the first call loads (modules imported on first use, the TLS context and its CA
bundle, the connection and its handshake, the token) is loaded cold, as in a process that
just started.

The child first imports what an application module imports at its top (``authing_mfa`` for
the SDK, ``aiohttp`` for the raw contender: not timed), then starts an event loop with a probe
task that sleeps 1 ms at a time and records how late it wakes. After 20 ms of probing to
settle, the window opens: the contender makes its first call, and the longest lateness the
probe saw from then until 5 ms after the call returned is ``max_lag_ms``: the longest time the
loop could run nothing else, which every other request of a server on that loop waits too.

Contenders (CONTENDER):
- ``none``: no call; the window stays open 200 ms. The loop's own lateness on this machine:
  the baseline, without which a stall means little.
- ``sdk``: ``AsyncMfaClient(...)`` built in the loop, then ``await get_status(...)``, which
  fetches the token first; the client's own first-use work is all inside the window.
- ``raw-aiohttp``: a new `aiohttp.ClientSession` (default TLS context), the token ``POST``
  and the status ``GET``: the same first call by hand, for reference.

For an ``https://`` URL the harness points ``SSL_CERT_FILE`` at a bundle of certifi's CAs plus
the responder's own, which both contenders' TLS contexts read (httpx's
``create_ssl_context()``, which the SDK's aiohttp stack uses, and OpenSSL's default paths):
the same amount of certificates to load as in production, and one more that signs the
responder's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from ._contenders import (
    COMMON_HEADERS,
    SECRET,
    STATUS_PATH,
    TOKEN_PATH,
    TOKEN_QUERY,
    USER_ID,
    USER_POOL_ID,
    headers,
    parse_envelope,
    token_of,
)
from ._cprofile import capture

CONTENDERS = ("none", "sdk", "raw-aiohttp")
_TICK = 0.001
_SETTLE = 0.02
_TAIL = 0.005
_IDLE_WINDOW = 0.2


class Probe:
    """A task that sleeps a tick at a time and keeps the longest lateness since `reset`."""

    def __init__(self) -> None:
        self.max_lag = 0.0
        self.wakes = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def reset(self) -> None:
        self.max_lag = 0.0
        self.wakes = 0

    async def _run(self) -> None:
        clock = time.perf_counter
        while True:
            before = clock()
            await asyncio.sleep(_TICK)
            lag = clock() - before - _TICK
            self.wakes += 1
            self.max_lag = max(lag, self.max_lag)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def _sdk_call(url: str) -> None:
    from authing_mfa import AsyncMfaClient  # noqa: PLC0415 - imported already: see main

    client = AsyncMfaClient(user_pool_id=USER_POOL_ID, secret=SECRET, host=url)
    try:
        status = await client.get_status(USER_ID)
    finally:
        await client.aclose()
    if not status.otp:
        raise RuntimeError(f"the SDK read {status!r}")


async def _raw_aiohttp_call(url: str) -> None:
    import aiohttp  # noqa: PLC0415 - imported already: see main

    async with aiohttp.ClientSession(base_url=url) as session:
        async with session.post(TOKEN_PATH, json=TOKEN_QUERY, headers=COMMON_HEADERS) as answer:
            token = token_of(await answer.read())
        async with session.get(STATUS_PATH, headers=headers(token)) as answer:
            parse_envelope(await answer.read())


async def _measure(contender: str, url: str, profile: str | None) -> dict[str, Any]:
    probe = Probe()
    probe.start()
    await asyncio.sleep(_SETTLE)
    probe.reset()
    started = time.perf_counter()
    with capture(profile):
        if contender == "sdk":
            await _sdk_call(url)
        elif contender == "raw-aiohttp":
            await _raw_aiohttp_call(url)
        else:
            await asyncio.sleep(_IDLE_WINDOW)
    call = time.perf_counter() - started
    await asyncio.sleep(_TAIL)
    await probe.stop()
    return {"max_lag_ms": probe.max_lag * 1e3, "call_ms": call * 1e3, "wakes": probe.wakes}


def main(argv: list[str] | None = None) -> None:
    """Import what the contender's application would, run one first call, print the JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks._first_call")
    parser.add_argument("contender", choices=CONTENDERS)
    parser.add_argument("url")
    parser.add_argument("--profile", default=None, help="write cProfile statistics here")
    args = parser.parse_args(argv)
    # What an application imports at its top, before any loop runs: not in the window.
    if args.contender == "sdk":
        import authing_mfa  # noqa: F401, PLC0415
    elif args.contender == "raw-aiohttp":
        import aiohttp  # noqa: F401, PLC0415
    result = asyncio.run(_measure(args.contender, args.url, args.profile))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
