"""The README's FastAPI app, run through its lifespan with an ASGI client against the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from support.clients import client_options
from support.fakes import ClosingProbe
from support.readme_examples import load

from authing_mfa.testing import Emulator

pytest.importorskip("fastapi")
from asgi_lifespan import LifespanManager

TOTP_SECRET = "JBSWY3DPEHPK3PXP"


@pytest.fixture(scope="module")
def example():
    return load("fastapi")


@asynccontextmanager
async def serve(example, emulator: Emulator, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = client_options(emulator, **options)
    app = example.create_app(**settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(manager.app), base_url="http://app"
        ) as http,
    ):
        yield http


@pytest.mark.asyncio
async def test_the_three_operations_through_the_app(example, emulator):
    """Import, status and unbind work through the routes, and the emulator sees their effect."""
    async with serve(example, emulator) as http:
        imported = await http.post("/users/alice/totp", json={"secret": TOTP_SECRET})
        bound = await http.get("/users/alice/mfa")
        unbound = await http.delete("/users/alice/mfa/otp")
        after = await http.get("/users/alice/mfa")
    assert imported.status_code == 201
    assert imported.json()["enabled"] is True
    assert TOTP_SECRET not in imported.text
    assert bound.json() == {"FACE": False, "OTP": True}
    assert unbound.json() == {"unbound": True}
    assert after.json()["OTP"] is False
    assert emulator.user("alice")["totp"] is None


@pytest.mark.asyncio
async def test_one_client_serves_concurrent_requests_with_one_token(example, emulator):
    """Fifty concurrent requests share the lifespan's client, which fetches a single token."""
    async with serve(example, emulator) as http:
        answers = await asyncio.gather(*(http.get("/users/bob/mfa") for _ in range(50)))
    assert {answer.status_code for answer in answers} == {200}
    assert emulator.token_requests == 1


@pytest.mark.asyncio
async def test_the_lifespan_closes_the_client_at_shutdown(example, emulator):
    """Shutting the app down closes the client's connection pool."""
    probe = ClosingProbe(emulator)
    async with serve(example, emulator, transport=probe) as http:
        await http.get("/users/alice/mfa")
        assert not probe.closed
    assert probe.closed


@pytest.mark.asyncio
async def test_an_unknown_user_is_404(example, emulator):
    """NotFoundError becomes 404 with the server's message."""
    async with serve(example, emulator) as http:
        answer = await http.get("/users/nobody/mfa")
    assert answer.status_code == 404
    assert "2004" in answer.json()["detail"]


@pytest.mark.asyncio
async def test_an_unknown_factor_is_422(example, emulator):
    """InvalidArgumentError from the SDK becomes 422, naming the argument."""
    async with serve(example, emulator) as http:
        answer = await http.delete("/users/alice/mfa/carrier-pigeon")
    assert answer.status_code == 422
    assert "mfa_type" in answer.json()["detail"]


@pytest.mark.asyncio
async def test_an_unreachable_authing_is_503(example, emulator):
    """A TransportError, here every connection dropped, becomes 503 without details."""
    emulator.add_fault(path="/api/*", action="drop", times=None)
    async with serve(example, emulator) as http:
        answer = await http.get("/users/alice/mfa")
    assert answer.status_code == 503
    assert answer.json() == {"detail": "MFA service unavailable"}


@pytest.mark.asyncio
async def test_authings_rate_limit_is_429_with_retry_after(example, emulator):
    """A RateLimitError becomes 429 carrying the wait Authing asked for."""
    emulator.add_fault(path="/api/*", status=429, retry_after=120)
    async with serve(example, emulator) as http:
        answer = await http.get("/users/alice/mfa")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "120"


@pytest.mark.asyncio
async def test_refused_pool_credentials_are_502_not_the_callers_401(example, emulator):
    """Our pool's secret refused is the server's problem: 502, never the secret in the body."""
    async with serve(example, emulator, secret="not-the-secret") as http:
        answer = await http.get("/users/alice/mfa")
    assert answer.status_code == 502
    assert answer.json() == {"detail": "MFA service unavailable"}


@pytest.mark.asyncio
async def test_authing_failing_is_502(example, emulator):
    """A ServerError after the retries becomes 502."""
    emulator.add_fault(path="/api/*", status=500, times=None)
    async with serve(example, emulator) as http:
        answer = await http.get("/users/alice/mfa")
    assert answer.status_code == 502
