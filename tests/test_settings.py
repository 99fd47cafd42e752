"""Every setting is checked once, when a client is built, by both clients alike."""

from __future__ import annotations

import inspect

import httpx
import pytest
from fakes import POOL_ID, POOL_SECRET, envelope

from authing_mfa import AsyncMfaClient, InvalidArgumentError, MfaClient

# One bad value for every constructor argument, and the words the error must say.
BAD_VALUES = {
    "user_pool_id": (7, "user_pool_id must be a str"),
    "secret": (b"bytes", "secret must be a str"),
    "host": ("core.authing.cn", "host must be an http"),
    "access_token": (7, "access_token must be a str"),
    "app_id": (["a"], "app_id must be a str"),
    "tenant_id": (1.5, "tenant_id must be a str"),
    "lang": (5, "lang must be a str"),
    "timeout": (-1, "timeout must be a positive number"),
    "total_timeout": ("60", "total_timeout must be a number of seconds"),
    "max_retries": (-1, "max_retries must be an int >= 0"),
    "max_retry_wait": (float("nan"), "max_retry_wait must be a positive number"),
    "wait_initial": ("abc", "wait_initial must be a number of seconds"),
    "wait_max": (-5, "wait_max must be a positive number"),
    "limits": ({"max_connections": 5}, "limits must be an httpx.Limits"),
    "transport": (object(), "transport must be an httpx.AsyncBaseTransport"),
    "http_client": (httpx.Client, "http_client must be an httpx.AsyncClient"),
    "http_backend": ("requests", "http_backend must be one of auto, httpx, aiohttp"),
    "on_request": ("print", "on_request must be a callable"),
    "on_response": (42, "on_response must be a callable"),
}


def test_the_table_covers_every_argument_of_both_clients():
    """No constructor argument escapes the table below: each is checked at construction."""
    for client in (AsyncMfaClient, MfaClient):
        names = set(inspect.signature(client).parameters)
        assert names == set(BAD_VALUES)


@pytest.mark.parametrize("client", [AsyncMfaClient, MfaClient])
@pytest.mark.parametrize("argument", sorted(BAD_VALUES))
def test_a_bad_value_for_any_argument_is_refused_at_construction(client, argument):
    """Each argument's bad value raises InvalidArgumentError naming it, before anything runs."""
    value, message = BAD_VALUES[argument]
    arguments = {"user_pool_id": POOL_ID, "secret": POOL_SECRET, argument: value}
    with pytest.raises(InvalidArgumentError, match=message):
        client(**arguments)


@pytest.mark.asyncio
async def test_wait_bounds_of_zero_mean_retrying_at_once(api, make_client):
    """wait_initial and wait_max may be 0: a retry then follows the failure at once."""
    route = api.get("/api/v2/users/u1/mfa-bound")
    route.side_effect = [envelope(status=503), envelope({"OTP": True})]
    async with make_client(wait_initial=0, wait_max=0) as mfa:
        assert (await mfa.get_status("u1")).otp
    assert route.call_count == 2
