"""The README's aiohttp app, served by aiohttp's test server, against the emulator in process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from support.clients import client_options
from support.fakes import ClosingProbe
from support.readme_examples import load

from authing_mfa.testing import Emulator

pytest.importorskip("aiohttp")
from aiohttp.test_utils import TestClient, TestServer

TOTP_SECRET = "JBSWY3DPEHPK3PXP"


@pytest.fixture(scope="module")
def example():
    return load("aiohttp")


@asynccontextmanager
async def serve(example, emulator: Emulator, **options: Any) -> AsyncIterator[TestClient]:
    settings = client_options(emulator, **options)
    async with TestClient(TestServer(example.create_app(**settings))) as client:
        yield client


@pytest.mark.asyncio
async def test_the_three_operations_through_the_app(example, emulator):
    """Import, status and unbind work through the handlers over a real socket."""
    async with serve(example, emulator) as http:
        imported = await http.post("/users/alice/totp", json={"secret": TOTP_SECRET})
        imported_body = await imported.json()
        bound = await (await http.get("/users/alice/mfa")).json()
        unbound = await (await http.delete("/users/alice/mfa/otp")).json()
        after = await (await http.get("/users/alice/mfa")).json()
    assert imported.status == 201
    assert imported_body["enabled"] is True
    assert bound == {"FACE": False, "OTP": True}
    assert unbound == {"unbound": True}
    assert after["OTP"] is False


@pytest.mark.asyncio
async def test_one_client_serves_concurrent_requests_with_one_token(example, emulator):
    """Fifty concurrent requests share the app's client, which fetches a single token."""
    async with serve(example, emulator) as http:
        answers = await asyncio.gather(*(http.get("/users/bob/mfa") for _ in range(50)))
    assert {answer.status for answer in answers} == {200}
    assert emulator.token_requests == 1


@pytest.mark.asyncio
async def test_the_cleanup_context_closes_the_client(example, emulator):
    """Shutting the app down closes the client's connection pool, and not before."""
    probe = ClosingProbe(emulator)
    async with serve(example, emulator, transport=probe) as http:
        await http.get("/users/alice/mfa")
        assert not probe.closed
    assert probe.closed


@pytest.mark.parametrize(
    ("fault", "path", "status"),
    [
        (None, "/users/nobody/mfa", 404),
        ({"action": "drop", "times": None}, "/users/alice/mfa", 503),
        ({"status": 500, "times": None}, "/users/alice/mfa", 502),
    ],
)
@pytest.mark.asyncio
async def test_errors_become_http_statuses(example, emulator, fault, path, status):
    """The middleware maps NotFoundError to 404, TransportError to 503, the rest to 502."""
    if fault is not None:
        emulator.add_fault(path="/api/*", **fault)
    async with serve(example, emulator) as http:
        answer = await http.get(path)
    assert answer.status == status


@pytest.mark.asyncio
async def test_an_unknown_factor_is_400(example, emulator):
    """InvalidArgumentError becomes 400, naming the argument."""
    async with serve(example, emulator) as http:
        answer = await http.delete("/users/alice/mfa/carrier-pigeon")
        body = await answer.json()
    assert answer.status == 400
    assert "mfa_type" in body["detail"]
