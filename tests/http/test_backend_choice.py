"""http_backend chooses the HTTP library in every loop; what cannot work is refused."""

from __future__ import annotations

import pytest
import trio
from fakes import POOL_ID, POOL_SECRET

from authing_mfa import AsyncMfaClient, InvalidArgumentError
from authing_mfa._http._aiohttp import AiohttpStack
from authing_mfa._http._httpx import HttpxStack
from authing_mfa.testing import Emulator


def client_for(server, **options):
    return AsyncMfaClient(
        host=server.url,
        user_pool_id=server.emulator.user_pool_id,
        secret=server.emulator.secret,
        **options,
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("backend", "stack"), [("auto", AiohttpStack), ("aiohttp", AiohttpStack), ("httpx", HttpxStack)]
)
async def test_under_asyncio_the_backend_picks_the_stack(server, emulator, backend, stack):
    async with client_for(server, http_backend=backend) as mfa:
        await mfa.get_status("u1")
        assert isinstance(mfa._ops.pipeline.stack(), stack)


def test_aiohttp_under_trio_is_refused_when_called(server, emulator):
    """aiohttp runs under asyncio only: a call under trio says so, with a typed error."""
    mfa = client_for(server, http_backend="aiohttp")
    with pytest.raises(InvalidArgumentError, match="asyncio only"):
        trio.run(mfa.get_status, "u1")


def test_aiohttp_with_an_httpx_transport_is_refused_at_construction():
    with pytest.raises(InvalidArgumentError, match="transport and http_client are httpx's"):
        AsyncMfaClient(
            user_pool_id=POOL_ID,
            secret=POOL_SECRET,
            transport=Emulator().transport(),
            http_backend="aiohttp",
        )
