"""respx and pytest-httpx, as their users use them, see every request with http_backend="httpx"."""

from __future__ import annotations

import httpx
import pytest
import respx
from fakes import POOL_ID, POOL_SECRET, TOKEN, envelope, token_answer

from authing_mfa import AsyncMfaClient, ConnectionError, MfaClient  # noqa: A004

HOST = "https://core.authing.cn"
STATUS_URL = f"{HOST}/api/v2/users/alice/mfa-bound"


@pytest.mark.asyncio
async def test_respx_intercepts_the_async_client_with_the_httpx_backend():
    """Under ``respx.mock`` the token request and the call both reach the mock, not the net."""
    with respx.mock(assert_all_called=True) as router:
        token = router.post(f"{HOST}/graphql/v2").mock(return_value=token_answer())
        status = router.get(STATUS_URL).mock(return_value=envelope({"OTP": True}))
        async with AsyncMfaClient(
            user_pool_id=POOL_ID, secret=POOL_SECRET, http_backend="httpx"
        ) as mfa:
            assert (await mfa.get_status("alice")).otp
    assert token.call_count == 1
    assert status.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"


def test_respx_intercepts_the_blocking_client_with_the_httpx_backend():
    """MfaClient sends from its own event-loop thread; respx's patch reaches it there too."""
    with respx.mock(assert_all_called=True) as router:
        router.post(f"{HOST}/graphql/v2").mock(return_value=token_answer())
        router.get(STATUS_URL).mock(return_value=envelope({"OTP": False, "FACE": True}))
        with MfaClient(user_pool_id=POOL_ID, secret=POOL_SECRET, http_backend="httpx") as mfa:
            assert mfa.get_status("alice").face


@pytest.mark.asyncio
async def test_the_backend_can_be_switched_from_the_environment(monkeypatch):
    """``AUTHING_HTTP_BACKEND=httpx`` switches clients an application builds, unchanged."""
    monkeypatch.setenv("AUTHING_HTTP_BACKEND", "httpx")
    monkeypatch.setenv("AUTHING_USERPOOL_ID", POOL_ID)
    monkeypatch.setenv("AUTHING_USERPOOL_SECRET", POOL_SECRET)
    with respx.mock(assert_all_called=True) as router:
        router.post(f"{HOST}/graphql/v2").mock(return_value=token_answer())
        router.get(STATUS_URL).mock(return_value=envelope({"OTP": True}))
        async with AsyncMfaClient() as mfa:  # as the application builds it
            assert (await mfa.get_status("alice")).otp


def test_an_unknown_backend_in_the_environment_names_the_variable(monkeypatch):
    from authing_mfa import InvalidArgumentError

    monkeypatch.setenv("AUTHING_HTTP_BACKEND", "requests")
    with pytest.raises(InvalidArgumentError, match="AUTHING_HTTP_BACKEND must be one of"):
        AsyncMfaClient(user_pool_id=POOL_ID, secret=POOL_SECRET)


@pytest.mark.asyncio
async def test_pytest_httpx_intercepts_with_the_httpx_backend(httpx_mock):
    """pytest-httpx's ``httpx_mock`` answers every request, the token's included."""
    httpx_mock.add_response(
        method="POST",
        url=f"{HOST}/graphql/v2",
        json={"data": {"accessToken": {"accessToken": TOKEN, "exp": 2e9, "iat": 1e9}}},
    )
    httpx_mock.add_response(
        method="DELETE",
        url=f"{STATUS_URL}?type=OTP",
        json={"code": 200, "message": "解绑成功", "data": None},
    )
    async with AsyncMfaClient(
        user_pool_id=POOL_ID, secret=POOL_SECRET, http_backend="httpx"
    ) as mfa:
        assert await mfa.unassociate_mfa("alice", "otp")
    requests = httpx_mock.get_requests()
    assert [request.method for request in requests] == ["POST", "DELETE"]


@pytest.mark.asyncio
async def test_without_the_setting_respx_does_not_see_the_default_stack():
    """What the README warns of: under asyncio the default stack is aiohttp, which respx
    never sees, so the request goes to the network (here a closed local port)."""
    with respx.mock(assert_all_called=False) as router:
        mocked = router.route().mock(return_value=httpx.Response(500))
        async with AsyncMfaClient(
            user_pool_id=POOL_ID, secret=POOL_SECRET, host="http://127.0.0.1:9", max_retries=0
        ) as mfa:
            with pytest.raises(ConnectionError):
                await mfa.get_status("alice")
    assert mocked.call_count == 0
