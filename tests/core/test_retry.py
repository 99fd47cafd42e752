"""Retries: what is retried, how long the client waits, and the bounds on attempts and time."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import anyio
import httpx
import pytest
from support.fakes import envelope

from authing_mfa import (
    ApiError,
    ConnectionError,  # noqa: A004
    NotFoundError,
    RateLimitError,
    ServerError,
    TimeoutError,  # noqa: A004
)
from authing_mfa._retry import RetryPolicy, current_pacer

STATUS_URL = "/api/v2/users/u1/mfa-bound"
OK = envelope({"OTP": True})


def gateway(status, **headers):
    return httpx.Response(status, html=f"<html><title>{status}</title></html>", headers=headers)


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried_until_success(api, make_client, status):
    """Each retryable status is retried, and the call succeeds once the server recovers."""
    route = api.get(STATUS_URL).mock(side_effect=[gateway(status), gateway(status), OK])
    async with make_client() as mfa:
        assert (await mfa.get_status("u1")).otp
    assert route.call_count == 3


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("stalled"),
        httpx.RemoteProtocolError("Server disconnected"),
    ],
)
async def test_transport_failures_are_retried(api, make_client, failure):
    """Connection errors, timeouts and dropped connections are retried."""
    route = api.get(STATUS_URL).mock(side_effect=[failure, OK])
    async with make_client() as mfa:
        assert (await mfa.get_status("u1")).otp
    assert route.call_count == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (envelope(code=2004, message="用户不存在"), NotFoundError),
        (gateway(501), ServerError),
        (envelope(code=500, message="业务错误"), ApiError),
        (gateway(400), ApiError),
    ],
)
async def test_other_errors_are_raised_at_once(api, make_client, answer, expected):
    """Business errors and non-retryable statuses are never retried."""
    route = api.get(STATUS_URL).mock(return_value=answer)
    async with make_client() as mfa:
        with pytest.raises(expected):
            await mfa.get_status("u1")
    assert route.call_count == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("max_retries", [0, 1, 3])
async def test_attempts_are_bounded_by_max_retries(api, make_client, max_retries):
    """A server that keeps failing sees max_retries + 1 attempts, then the error is raised."""
    route = api.get(STATUS_URL).mock(return_value=gateway(503))
    async with make_client(max_retries=max_retries) as mfa:
        with pytest.raises(ServerError) as caught:
            await mfa.get_status("u1")
    assert caught.value.http_status == 503
    assert route.call_count == max_retries + 1


@pytest.mark.anyio
async def test_retry_after_seconds_is_honoured(api, make_client):
    """A 429 with Retry-After: 1 is waited out for at least a second, then retried."""
    route = api.get(STATUS_URL).mock(side_effect=[gateway(429, **{"retry-after": "1"}), OK])
    async with make_client() as mfa:
        started = anyio.current_time()
        assert (await mfa.get_status("u1")).otp
        waited = anyio.current_time() - started
    assert waited >= 1.0
    assert route.call_count == 2


@pytest.mark.anyio
async def test_retry_after_http_date_is_honoured(api, make_client):
    """A Retry-After given as an HTTP date is waited out until that date."""
    asked_at = datetime.now(timezone.utc)
    # In whole seconds, as an HTTP date says it.
    when = (asked_at + timedelta(seconds=2)).replace(microsecond=0)
    route = api.get(STATUS_URL).mock(
        side_effect=[gateway(503, **{"retry-after": format_datetime(when, usegmt=True)}), OK]
    )
    async with make_client() as mfa:
        started = anyio.current_time()
        assert (await mfa.get_status("u1")).otp
        waited = anyio.current_time() - started
    # The wait, counted from when the date was asked for, ends within a second of the date.
    assert asked_at + timedelta(seconds=waited) >= when - timedelta(seconds=1)
    assert route.call_count == 2


@pytest.mark.anyio
async def test_retry_after_beyond_the_cap_raises_at_once(api, make_client):
    """A Retry-After longer than max_retry_wait raises RateLimitError without waiting."""
    route = api.get(STATUS_URL).mock(return_value=gateway(429, **{"retry-after": "3600"}))
    async with make_client(max_retry_wait=30) as mfa:
        started = anyio.current_time()
        with pytest.raises(RateLimitError) as caught:
            await mfa.get_status("u1")
    assert anyio.current_time() - started < 1.0
    assert caught.value.retry_after == 3600
    assert route.call_count == 1


@pytest.mark.anyio
async def test_a_wait_past_the_total_timeout_is_not_started(api, make_client):
    """A Retry-After that would outlast total_timeout raises at once."""
    route = api.get(STATUS_URL).mock(return_value=gateway(429, **{"retry-after": "5"}))
    async with make_client(total_timeout=2) as mfa:
        started = anyio.current_time()
        with pytest.raises(RateLimitError):
            await mfa.get_status("u1")
    assert anyio.current_time() - started < 1.0
    assert route.call_count == 1


@pytest.mark.slow  # waits out a real stall
@pytest.mark.asyncio
async def test_total_timeout_bounds_a_call_against_a_stalling_server(api, make_client):
    """Attempts that each stall are cut so the whole call ends near total_timeout."""
    route = api.get(STATUS_URL).mock(side_effect=httpx.ReadTimeout("stalled"))
    async with make_client(
        max_retries=1000, total_timeout=0.5, wait_initial=0.05, wait_max=0.05
    ) as mfa:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await mfa.get_status("u1")
    assert time.monotonic() - started < 2.0
    assert 2 <= route.call_count < 1000


@pytest.mark.asyncio
async def test_each_attempt_gets_the_smaller_of_timeout_and_what_remains(api, make_client):
    """The per-attempt timeout passed to httpx never exceeds what remains of total_timeout.

    Both the first call (which fetches the token) and a later one (whose token is cached, and
    whose first request skips the retry loop) are bounded.
    """
    route = api.get(STATUS_URL).mock(return_value=OK)
    async with make_client(timeout=10, total_timeout=3) as mfa:
        await mfa.get_status("u1")
        await mfa.get_status("u1")
    assert route.call_count == 2
    for call in route.calls:
        timeouts = call.request.extensions["timeout"]
        assert 2.5 < timeouts["read"] <= 3
        assert timeouts["read"] == timeouts["connect"]


@pytest.mark.asyncio
async def test_every_retry_is_logged_with_attempt_and_request_id(api, make_client, caplog):
    """Each retry leaves one record on the authing_mfa logger, naming attempt and request id."""
    api.get(STATUS_URL).mock(
        side_effect=[
            gateway(503, **{"x-request-id": "req-1"}),
            gateway(502, **{"x-request-id": "req-2"}),
            OK,
        ]
    )
    with caplog.at_level(logging.INFO, logger="authing_mfa"):
        async with make_client() as mfa:
            await mfa.get_status("u1")
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert [r.name for r in retries] == ["authing_mfa", "authing_mfa"]
    assert "attempt 2 of 3" in retries[0].getMessage()
    assert "request id req-1" in retries[0].getMessage()
    assert "attempt 3 of 3" in retries[1].getMessage()
    assert "request id req-2" in retries[1].getMessage()


@pytest.mark.anyio
async def test_a_call_held_back_past_its_time_raises_its_last_error_without_another_attempt():
    """A bulk run's pacer that holds a retry until total_timeout is spent ends the call there.

    The attempt that would follow has no time left: it is not made with a budget of nothing.
    """
    now = [0.0]

    class SlowPacer:  # lets each request through ten seconds later, on the call's clock
        open = False

        async def wait(self) -> None:
            now[0] += 10

        def pause(self, seconds: float) -> None:
            raise AssertionError(f"no Retry-After here, yet a pause of {seconds} s")

    budgets: list[float] = []

    async def attempt(budget: float, number: int) -> None:
        budgets.append(budget)
        raise ConnectionError(f"attempt {number} refused")

    policy = RetryPolicy(
        max_retries=3, timeout=1, total_timeout=5, max_retry_wait=10, wait_initial=0, wait_max=0
    )
    reset = current_pacer.set(SlowPacer())  # type: ignore[arg-type]
    try:
        with pytest.raises(ConnectionError, match="attempt 1 refused"):
            await policy.run(attempt, lambda: now[0], lambda: "GET /x")
    finally:
        current_pacer.reset(reset)
    assert budgets == [5]  # the whole budget for the first attempt, and no second one
