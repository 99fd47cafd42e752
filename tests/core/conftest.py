"""The core's tests: a respx router standing in for Authing, clients on it, a virtual clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx
from support.fakes import HOST, POOL_ID, POOL_SECRET, token_answer
from trio.testing import MockClock

from authing_mfa import AsyncMfaClient, MfaClient


@pytest.fixture
def api() -> respx.Router:
    """A router answering the token query; tests add the REST routes they need."""
    router = respx.Router(base_url=HOST, assert_all_called=False)
    router.post("/graphql/v2", name="token").mock(return_value=token_answer())
    return router


@pytest.fixture
def settings(api: respx.Router) -> dict[str, Any]:
    """Constructor arguments for a client on *api*, with retries that do not wait."""
    return {
        "user_pool_id": POOL_ID,
        "secret": POOL_SECRET,
        "transport": httpx.MockTransport(api.async_handler),
        "wait_initial": 0.001,
        "wait_max": 0.001,
    }


@pytest.fixture
def make_client(settings: dict[str, Any]) -> Callable[..., AsyncMfaClient]:
    return lambda **overrides: AsyncMfaClient(**{**settings, **overrides})


@pytest.fixture
def make_sync_client(settings: dict[str, Any]) -> Iterator[Callable[..., MfaClient]]:
    made: list[MfaClient] = []

    def make(**overrides: Any) -> MfaClient:
        client = MfaClient(**{**settings, **overrides})
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """Run this folder's anyio tests on trio under a virtual clock: waits take no wall time.

    The clock jumps to the next deadline whenever every task is waiting, so a one-second
    ``Retry-After`` passes at once and `anyio.current_time` reads one second later.
    """
    return "trio", {"clock": MockClock(autojump_threshold=0)}
