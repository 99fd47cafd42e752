"""A soak: 20 000 mixed calls at concurrency 64 against a server that fails 5 % of requests."""

from __future__ import annotations

import gc
import random
from collections import Counter
from pathlib import Path

import anyio
import httpx
import pytest
from support.clients import client_options
from support.netstat import connections_to

from authing_mfa import AsyncMfaClient, AuthingMfaError, MfaStatus, TotpAuthenticator
from authing_mfa.testing import spawn_server

CALLS = 20_000
CONCURRENCY = 64
POOL_LIMIT = 32
USERS = 500
FAULTS = [
    {"status": 503},
    {"status": 502},
    {"action": "drop"},
    {"status": 429, "retryAfter": 0},
    {"action": "malformed"},
]


def rss_bytes() -> int | None:
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return None
    return int(statm.read_text().split()[1]) * 4096


class Soak:
    """Drives the calls, injects the faults and samples connections and memory."""

    def __init__(self, server, mfa, users):
        self.server, self.mfa, self.users = server, mfa, users
        self.port = httpx.URL(server.url).port
        self.rng = random.Random(20_000)  # noqa: S311 - reproducible fault placement
        self.outcomes: Counter[str] = Counter()
        self.malformed_faults = 0
        self.peak_connections = 0
        self.rss_after_warmup: int | None = None

    async def call(self, n: int) -> None:
        user = self.users[n % USERS]
        try:
            match n % 3:
                case 0:
                    assert isinstance(await self.mfa.get_status(user), MfaStatus)
                case 1:
                    totp = await self.mfa.import_totp(user, "JBSWY3DPEHPK3PXP")
                    assert isinstance(totp, TotpAuthenticator)
                    assert totp.user_id == user
                case _:
                    assert await self.mfa.unassociate_mfa(user, "OTP") is True
        except AuthingMfaError as error:
            self.outcomes[type(error).__name__] += 1
        else:
            self.outcomes["ok"] += 1

    async def maybe_fault(self) -> None:
        if self.rng.random() < 0.05:
            fault = self.rng.choice(FAULTS)
            self.malformed_faults += fault.get("action") == "malformed"
            faults = [{"path": "/api/*", **fault}]
            await anyio.to_thread.run_sync(self.server.control.add_faults, faults)

    async def sample(self, n: int) -> None:
        if n % 500 == 0:
            self.peak_connections = max(self.peak_connections, connections_to(self.port) or 0)
        if n == 2_000:
            gc.collect()
            self.rss_after_warmup = rss_bytes()
        if n % 5_000 == 0:  # the server's journal is not what is being soaked
            await anyio.to_thread.run_sync(self.server.control.clear_requests)

    async def run(self) -> None:
        send, receive = anyio.create_memory_object_stream[int](CONCURRENCY)

        async def worker() -> None:
            async with receive.clone() as jobs:
                async for n in jobs:
                    await self.call(n)

        async with anyio.create_task_group() as tasks:
            for _ in range(CONCURRENCY):
                tasks.start_soon(worker)
            async with send:
                for n in range(CALLS):
                    await self.maybe_fault()
                    await send.send(n)
                    await self.sample(n)
            receive.close()


@pytest.mark.slow
@pytest.mark.asyncio
async def test_soak_every_call_ends_right_or_typed_and_nothing_leaks():
    """Each call returns the right record or a typed error; pool, warnings and memory stay put."""
    with spawn_server() as server:
        users = server.control.add_users([f"soak-{n}" for n in range(USERS)])
        async with AsyncMfaClient(
            **client_options(
                server,
                limits=httpx.Limits(max_connections=POOL_LIMIT),
                wait_initial=0.01,
                wait_max=0.05,
            )
        ) as mfa:
            soak = Soak(server, mfa, users)
            await soak.run()
        gc.collect()
        rss_at_end = rss_bytes()

    outcomes = soak.outcomes
    assert sum(outcomes.values()) == CALLS
    # A broken body is not retried; other faults raise only when they hit all three attempts
    # of one call, which consecutive faults occasionally do.
    typed = {"ResponseValidationError", "ServerError", "RateLimitError", "ConnectionError"}
    assert set(outcomes) <= {"ok", *typed}, outcomes
    assert outcomes["ResponseValidationError"] <= soak.malformed_faults
    assert outcomes["ok"] >= CALLS * 0.98
    # The control client's own connection to the server is counted too.
    assert soak.peak_connections <= POOL_LIMIT + 1
    if soak.rss_after_warmup is not None and rss_at_end is not None:
        assert rss_at_end <= soak.rss_after_warmup * 1.10, (soak.rss_after_warmup, rss_at_end)
