"""The fault matrix: both clients against the emulator on loopback, misbehaving on purpose."""

from __future__ import annotations

import socket
import time

import anyio
import pytest
import pytest_asyncio
from support.clients import client_options

from authing_mfa import (
    AsyncMfaClient,
    AuthenticationError,
    ConnectionError,  # noqa: A004
    MfaClient,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    TimeoutError,  # noqa: A004
    TransportError,
)

STATUS_PATH = "/api/v2/users/*/mfa-bound"


class Sync:
    """An MfaClient whose blocking calls run in a worker thread, awaited like the async client."""

    def __init__(self, **settings):
        self.client = MfaClient(**settings)

    def __getattr__(self, name):
        method = getattr(self.client, name)

        async def call(*args, **kwargs):
            return await anyio.to_thread.run_sync(lambda: method(*args, **kwargs))

        return call

    async def aclose(self):
        await anyio.to_thread.run_sync(self.client.close)


@pytest_asyncio.fixture(params=["async", "sync"])
async def make_client(request, server):
    made = []

    def make(**overrides):
        settings = client_options(server, **{"wait_initial": 0.05, "wait_max": 0.1, **overrides})
        client = AsyncMfaClient(**settings) if request.param == "async" else Sync(**settings)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def rest_requests(emulator):
    return [r for r in emulator.requests() if r["path"].startswith("/api/")]


@pytest.mark.asyncio
async def test_two_503s_then_an_answer_succeeds_after_two_retries(make_client, emulator):
    """503 twice, then a normal answer: the call succeeds on its third attempt."""
    emulator.add_fault(method="GET", path=STATUS_PATH, status=503, times=2)
    mfa = make_client()
    assert (await mfa.get_status("u1")).otp is False
    assert len(rest_requests(emulator)) == 3


@pytest.mark.slow
@pytest.mark.asyncio
async def test_429_with_retry_after_1_waits_a_second_then_succeeds(make_client, emulator):
    """A 429 asking for one second is waited out, then retried successfully."""
    emulator.add_fault(method="GET", path=STATUS_PATH, status=429, retry_after=1)
    mfa = make_client()
    started = time.monotonic()
    await mfa.get_status("u1")
    assert time.monotonic() - started >= 1.0
    assert len(rest_requests(emulator)) == 2


@pytest.mark.asyncio
async def test_429_with_retry_after_3600_raises_at_once(make_client, emulator):
    """A 429 asking for an hour raises RateLimitError at once, carrying the wait."""
    emulator.add_fault(method="GET", path=STATUS_PATH, status=429, retry_after=3600)
    mfa = make_client()
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        await mfa.get_status("u1")
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == 3600
    assert len(rest_requests(emulator)) == 1


@pytest.mark.asyncio
async def test_a_dropped_connection_is_retried(make_client, emulator):
    """The server closing the connection without a byte is retried, and the call succeeds."""
    emulator.add_fault(method="POST", path="/api/v2/mfa/totp/import", action="drop")
    mfa = make_client()
    totp = await mfa.import_totp("u1", "JBSWY3DPEHPK3PXP")
    assert totp.user_id == "u1"
    assert len(rest_requests(emulator)) == 2
    assert emulator.user("u1")["mfaBound"]["OTP"] is True


@pytest.mark.slow  # waits out a real stall
@pytest.mark.asyncio
async def test_a_stall_longer_than_the_timeout_raises_within_the_bound(make_client, emulator):
    """Stalling attempts raise TimeoutError within (max_retries + 1) x timeout plus the waits."""
    emulator.add_fault(method="GET", path=STATUS_PATH, delay=3, times=None)
    timeout, max_retries, wait_max = 0.3, 1, 0.1
    mfa = make_client(timeout=timeout, max_retries=max_retries, wait_max=wait_max)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await mfa.get_status("u1")
    bound = (max_retries + 1) * timeout + max_retries * wait_max
    assert time.monotonic() - started < bound + 0.5  # slack for a loaded machine


@pytest.mark.asyncio
async def test_an_html_502_page_is_retried_then_raised_as_server_error(make_client, emulator):
    """A gateway's 502 page is retried, and once the retries are spent ServerError names it."""
    emulator.add_fault(method="GET", path=STATUS_PATH, status=502, times=None)
    mfa = make_client(max_retries=2)
    with pytest.raises(ServerError) as caught:
        await mfa.get_status("u1")
    assert caught.value.http_status == 502
    assert len(rest_requests(emulator)) == 3


@pytest.mark.asyncio
async def test_a_broken_body_raises_response_validation_error(make_client, emulator):
    """A 200 whose body is cut off raises ResponseValidationError, and the client lives on."""
    emulator.add_fault(method="GET", path=STATUS_PATH, action="malformed")
    mfa = make_client()
    with pytest.raises(ResponseValidationError):
        await mfa.get_status("u1")
    assert (await mfa.get_status("u1")).otp is False


@pytest.mark.asyncio
async def test_code_2004_raises_not_found_at_once(make_client, emulator):
    """An unknown user raises NotFoundError after exactly one request."""
    mfa = make_client()
    with pytest.raises(NotFoundError) as caught:
        await mfa.get_status("nobody")
    assert caught.value.code == 2004
    assert caught.value.request_id
    assert len(rest_requests(emulator)) == 1


@pytest.mark.slow
@pytest.mark.asyncio
async def test_revoking_tokens_under_200_calls_in_flight_refreshes_once(make_client, emulator):
    """Tokens revoked while 200 calls wait on the server: one refresh, and every call succeeds."""
    mfa = make_client()
    await mfa.get_status("u1")  # warm: one token
    emulator.add_fault(method="GET", path=STATUS_PATH, delay=0.5, times=200)
    results = []

    async def call():
        results.append(await mfa.get_status("u1"))

    async with anyio.create_task_group() as tasks:
        for _ in range(200):
            tasks.start_soon(call)
        await anyio.sleep(0.3)
        assert emulator.revoke_tokens() >= 1
    assert len(results) == 200
    assert emulator.token_requests == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("action", "expected"), [("drop", ConnectionError), ("respond", AuthenticationError)]
)
async def test_a_down_token_endpoint_raises_a_clear_error(make_client, emulator, action, expected):
    """A token endpoint that drops connections or refuses credentials raises a clear error."""
    if action == "drop":
        emulator.add_fault(method="POST", path="/graphql/v2", action="drop", times=None)
        mfa = make_client()
    else:
        mfa = make_client(secret="not-the-pool-secret")
    with pytest.raises(expected) as caught:
        await mfa.get_status("u1")
    assert "graphql" in str(caught.value) or isinstance(caught.value, AuthenticationError)
    assert rest_requests(emulator) == []


@pytest.mark.asyncio
async def test_nothing_listening_raises_connection_error_fast(make_client, emulator):
    """A port nobody listens on raises ConnectionError within the retry waits, not a timeout."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mfa = make_client(host=f"http://127.0.0.1:{port}", timeout=10)
    started = time.monotonic()
    with pytest.raises(ConnectionError) as caught:
        await mfa.get_status("u1")
    assert time.monotonic() - started < 2.0
    assert isinstance(caught.value, TransportError)
