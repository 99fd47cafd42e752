"""The emulator's tests: one raw API client per way of running the emulator.

Every test that takes ``emu`` runs twice, against the in-process transport and against the
real loopback server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from support.emulator_api import POOL_ID, SECRET, Api

from authing_mfa.testing import Emulator, run_server


@pytest.fixture(scope="module")
def anyio_backend():
    # The emulator's tests run on asyncio; test_emulator_server covers trio on its own.
    return "asyncio"


@pytest.fixture(params=["in-process", "loopback"])
async def emu(request) -> AsyncIterator[Api]:
    """A pool of the fixed POOL_ID and SECRET with users alice and bob, and a client on it."""
    emulator = Emulator(POOL_ID, SECRET, users=["alice", "bob"])
    if request.param == "in-process":
        transport = emulator.transport()
        async with httpx.AsyncClient(transport=transport, base_url="http://any.invalid") as client:
            yield Api(emulator, client, request.param)
    else:
        with run_server(emulator) as server:
            # Plain HTTP on loopback: no certificate to check, and loading CA certificates would
            # cost 0.2 s per test.
            async with httpx.AsyncClient(
                base_url=server.url,
                trust_env=False,
                verify=False,  # noqa: S501
            ) as client:
                yield Api(emulator, client, request.param)
