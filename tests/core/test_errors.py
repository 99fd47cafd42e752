"""Every error code and HTTP status Authing and its gateways send, mapped to an exception."""

from __future__ import annotations

import pickle

import httpx
import pytest
from support.fakes import envelope

from authing_mfa import (
    ApiError,
    AuthenticationError,
    AuthingMfaError,
    ConnectionError,  # noqa: A004
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    TimeoutError,  # noqa: A004
    TransportError,
)

STATUS_URL = "/api/v2/users/u1/mfa-bound"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("code", "message", "status", "expected"),
    [
        (2004, "用户不存在", 200, NotFoundError),
        (2036, "用户不属于此用户池", 200, NotFoundError),
        (1001, "没有权限", 200, PermissionDeniedError),
        (2224, "用户池不存在", 200, AuthenticationError),
        (400, "参数错误", 200, ApiError),
        (400, "参数错误", 400, ApiError),
        (6001, "验证码错误", 200, ApiError),
        (2004, "用户不存在", 400, NotFoundError),
        (403, "Forbidden", 403, PermissionDeniedError),
        (404, "Not Found", 404, ApiError),
        (501, "Not Implemented", 501, ServerError),
    ],
)
async def test_envelope_error_maps_to_its_exception(
    api, make_client, code, message, status, expected
):
    """An envelope's code (or, failing a specific code, its HTTP status) picks the exception."""
    api.get(STATUS_URL).mock(
        return_value=envelope(
            code=code, message=message, status=status, headers={"x-request-id": "req-42"}
        )
    )
    async with make_client(max_retries=0) as mfa:
        with pytest.raises(expected) as caught:
            await mfa.get_status("u1")
    error = caught.value
    assert type(error) is expected
    assert (error.code, error.message, error.http_status, error.request_id) == (
        code,
        message,
        status,
        "req-42",
    )
    assert str(error) == f"[{code}] {message} (HTTP {status}, request id req-42)"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (408, ApiError),
        (418, ApiError),
    ],
)
async def test_status_without_envelope_maps_to_its_exception(api, make_client, status, expected):
    """A gateway's HTML page is read by its HTTP status, which becomes the code."""
    api.get(STATUS_URL).mock(
        return_value=httpx.Response(status, html="<html><body>nginx</body></html>")
    )
    async with make_client(max_retries=0, access_token="static") as mfa:
        with pytest.raises(expected) as caught:
            await mfa.get_status("u1")
    assert type(caught.value) is expected
    assert caught.value.code == status
    assert caught.value.http_status == status
    assert caught.value.message


@pytest.mark.asyncio
async def test_rate_limit_carries_retry_after(api, make_client):
    """A 429's Retry-After is kept on the RateLimitError, in seconds."""
    api.get(STATUS_URL).mock(
        return_value=envelope(
            code=429, message="Too Many Requests", status=429, headers={"retry-after": "3600"}
        )
    )
    async with make_client() as mfa:
        with pytest.raises(RateLimitError) as caught:
            await mfa.get_status("u1")
    assert caught.value.retry_after == 3600
    assert "retry_after=3600.0" in repr(caught.value)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"code": "200", "data": {}}',
        b'["code", 200]',
        b"",
    ],
)
async def test_a_2xx_answer_that_is_no_envelope_is_a_validation_error(api, make_client, body):
    """A success status whose body is not an envelope raises ResponseValidationError."""
    api.get(STATUS_URL).mock(return_value=httpx.Response(200, content=body))
    async with make_client() as mfa:
        with pytest.raises(ResponseValidationError, match="not an Authing envelope"):
            await mfa.get_status("u1")


@pytest.mark.asyncio
async def test_malformed_data_names_the_field(api, make_client):
    """A status whose factor is not a bool names the factor."""
    api.get(STATUS_URL).mock(return_value=envelope({"OTP": "yes"}))
    async with make_client() as mfa:
        with pytest.raises(ResponseValidationError, match="factor 'OTP': expected bool"):
            await mfa.get_status("u1")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.ConnectError("refused"), ConnectionError),
        (httpx.ReadError("reset"), ConnectionError),
        (httpx.RemoteProtocolError("Server disconnected"), ConnectionError),
        (httpx.ConnectTimeout("slow"), TimeoutError),
        (httpx.ReadTimeout("slow"), TimeoutError),
        (httpx.PoolTimeout("busy"), TimeoutError),
        (httpx.UnsupportedProtocol("ftp"), TransportError),
    ],
)
async def test_httpx_transport_errors_become_ours(api, make_client, error, expected):
    """httpx's exceptions never escape: each becomes a TransportError subclass, unchained."""
    api.get(STATUS_URL).mock(side_effect=error)
    async with make_client(max_retries=0) as mfa:
        with pytest.raises(expected) as caught:
            await mfa.get_status("u1")
    assert type(caught.value) is expected
    # httpx's exception holds the request, and its headers the token: named, never chained.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    assert f"httpx.{type(error).__name__}" in str(caught.value)
    assert "GET /api/v2/users/u1/mfa-bound" in str(caught.value)


def test_every_error_shares_one_root():
    """Catching AuthingMfaError catches every exception the package raises."""
    for cls in (
        InvalidArgumentError,
        ApiError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        RateLimitError,
        ServerError,
        TransportError,
        ConnectionError,
        TimeoutError,
        ResponseValidationError,
    ):
        assert issubclass(cls, AuthingMfaError)
    assert issubclass(InvalidArgumentError, ValueError)
    assert issubclass(ConnectionError, TransportError)
    assert issubclass(TimeoutError, TransportError)


@pytest.mark.parametrize(
    "error",
    [
        NotFoundError("用户不存在", code=2004, http_status=200, request_id="r1"),
        RateLimitError("slow down", code=429, http_status=429, retry_after=2.5),
    ],
)
def test_api_errors_survive_pickling(error):
    """Errors cross process boundaries (multiprocessing, Celery) with all their fields."""
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert type(copy) is type(error)
    assert repr(copy) == repr(error)


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_redirects_are_not_followed(api, make_client, status):
    """A redirect raises ApiError naming the target, and the token never goes there."""
    api.get(STATUS_URL).mock(
        return_value=httpx.Response(status, headers={"location": "https://evil.example/steal"})
    )
    elsewhere = api.get("https://evil.example/steal").mock(return_value=envelope({}))
    async with make_client() as mfa:
        with pytest.raises(ApiError, match=r"redirected to 'https://evil\.example/") as caught:
            await mfa.get_status("u1")
    assert caught.value.http_status == status
    assert elsewhere.call_count == 0
