"""The management token: one fetch for many callers, refreshed in time, replayed once on refusal."""

from __future__ import annotations

import asyncio
import logging

import anyio
import httpx
import pytest
from support.fakes import envelope, token_answer

from authing_mfa import AuthenticationError, ConnectionError, TimeoutError  # noqa: A004
from authing_mfa._token import Flight, ManagementTokens

STATUS_URL = "/api/v2/users/u1/mfa-bound"
OK = envelope({"OTP": True})


def token_sequence(*tokens, lifetime=86400):
    answers = iter(tokens)
    return lambda request: token_answer(next(answers), lifetime)


def bearer(request):
    return request.headers["authorization"].removeprefix("Bearer ")


@pytest.mark.asyncio
async def test_a_hundred_concurrent_calls_on_a_cold_client_fetch_one_token(api, make_client):
    """A stampede of first calls shares a single token request."""

    async def slow_token(request):
        await asyncio.sleep(0.05)
        return token_answer()

    api["token"].mock(side_effect=slow_token)
    api.get(STATUS_URL).mock(return_value=OK)
    async with make_client() as mfa:
        results = await asyncio.gather(*(mfa.get_status("u1") for _ in range(100)))
    assert all(status.otp for status in results)
    assert api["token"].call_count == 1
    assert api.routes[1].call_count == 100


@pytest.mark.asyncio
async def test_the_token_is_reused_while_valid(api, make_client):
    """Sequential calls carry the same cached token."""
    api.get(STATUS_URL).mock(return_value=OK)
    async with make_client() as mfa:
        for _ in range(5):
            await mfa.get_status("u1")
    assert api["token"].call_count == 1


@pytest.mark.anyio
async def test_a_token_is_refreshed_before_it_expires(api, make_client):
    """Once less than a tenth of its lifetime remains, the next call fetches a new token."""
    api["token"].mock(side_effect=token_sequence("first", "second", lifetime=1))
    route = api.get(STATUS_URL).mock(return_value=OK)
    async with make_client() as mfa:
        await mfa.get_status("u1")
        await anyio.sleep(0.95)
        await mfa.get_status("u1")
    assert [bearer(call.request) for call in route.calls] == ["first", "second"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "refusal",
    [
        envelope(code=2020, message="尚未登录，无权限访问此请求"),
        httpx.Response(401, text="Unauthorized"),
    ],
    ids=["code-2020", "http-401"],
)
async def test_a_refused_token_is_replaced_and_the_call_replayed_once(api, make_client, refusal):
    """A refusal drops the token, fetches another and replays the call with it."""
    api["token"].mock(side_effect=token_sequence("stale", "fresh"))
    route = api.get(STATUS_URL).mock(side_effect=[refusal, OK])
    async with make_client() as mfa:
        assert (await mfa.get_status("u1")).otp
    assert [bearer(call.request) for call in route.calls] == ["stale", "fresh"]
    assert api["token"].call_count == 2


@pytest.mark.asyncio
async def test_a_call_is_replayed_only_once(api, make_client):
    """A second refusal, with the fresh token, raises AuthenticationError."""
    api["token"].mock(side_effect=token_sequence("one", "two", "three"))
    route = api.get(STATUS_URL).mock(return_value=envelope(code=2020, message="尚未登录"))
    async with make_client() as mfa:
        with pytest.raises(AuthenticationError) as caught:
            await mfa.get_status("u1")
    assert caught.value.code == 2020
    assert route.call_count == 2
    assert api["token"].call_count == 2


@pytest.mark.asyncio
async def test_a_late_refusal_of_an_old_token_keeps_the_newer_one(api, make_client):
    """Concurrent refusals of one token cause one refresh; the new token is not dropped."""
    api["token"].mock(side_effect=token_sequence("old", "new", "newer"))
    release = asyncio.Event()

    async def answer(request):
        if bearer(request) == "old":
            await release.wait()
            return envelope(code=2020, message="尚未登录")
        return OK

    api.get(STATUS_URL).mock(side_effect=answer)
    async with make_client() as mfa:
        calls = [asyncio.create_task(mfa.get_status("u1")) for _ in range(20)]
        await asyncio.sleep(0.05)
        release.set()
        results = await asyncio.gather(*calls)
    assert all(status.otp for status in results)
    assert api["token"].call_count == 2


@pytest.mark.asyncio
async def test_a_static_access_token_is_sent_and_never_fetched(api, make_client):
    """access_token replaces the secret: no token request, and a refusal is final."""
    route = api.get(STATUS_URL).mock(side_effect=[OK, envelope(code=2020, message="尚未登录")])
    async with make_client(secret=None, access_token="ready-made") as mfa:
        await mfa.get_status("u1")
        with pytest.raises(AuthenticationError):
            await mfa.get_status("u1")
    assert api["token"].call_count == 0
    assert [bearer(call.request) for call in route.calls] == ["ready-made", "ready-made"]


@pytest.mark.asyncio
async def test_graphql_errors_mean_the_credentials_were_refused(api, make_client):
    """The token query's GraphQL error becomes AuthenticationError with its code and message."""
    api["token"].mock(
        return_value=httpx.Response(
            200,
            json={
                "errors": [
                    {
                        "message": {"code": 2224, "message": "用户池不存在"},
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                    }
                ],
                "data": None,
            },
        )
    )
    route = api.get(STATUS_URL).mock(return_value=OK)
    async with make_client() as mfa:
        with pytest.raises(AuthenticationError) as caught:
            await mfa.get_status("u1")
    assert (caught.value.code, caught.value.message) == (2224, "用户池不存在")
    assert route.call_count == 0


@pytest.mark.asyncio
async def test_a_graphql_error_with_a_plain_message_is_kept(api, make_client):
    """A GraphQL error whose message is a string keeps that string."""
    api["token"].mock(
        return_value=httpx.Response(
            200, json={"errors": [{"message": "secret is wrong"}], "data": None}
        )
    )
    async with make_client() as mfa:
        with pytest.raises(AuthenticationError, match="secret is wrong"):
            await mfa.get_status("u1")


@pytest.mark.asyncio
async def test_an_unreachable_token_endpoint_raises_the_transport_error(api, make_client):
    """A token request that cannot connect raises ConnectionError, not AuthenticationError."""
    api["token"].mock(side_effect=httpx.ConnectError("refused"))
    async with make_client(max_retries=1) as mfa:
        with pytest.raises(ConnectionError):
            await mfa.get_status("u1")
    assert api["token"].call_count == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "answer",
    [
        {"data": {"accessToken": None}},
        {"data": {"accessToken": {"accessToken": "", "exp": 2, "iat": 1}}},
        {"data": {"accessToken": {"accessToken": "t", "exp": "2", "iat": 1}}},
        {"data": {"accessToken": {"accessToken": "t", "exp": 1, "iat": 1}}},
    ],
)
async def test_a_malformed_token_answer_is_a_validation_error(api, make_client, answer):
    """A token answer without a usable token, exp and iat raises ResponseValidationError."""
    from authing_mfa import ResponseValidationError

    api["token"].mock(return_value=httpx.Response(200, json=answer))
    async with make_client() as mfa:
        with pytest.raises(ResponseValidationError, match="token answer"):
            await mfa.get_status("u1")


class FakeClock:
    def __init__(self):
        self.time = 1000.0

    def now(self):
        return self.time


@pytest.mark.asyncio
async def test_a_failed_refresh_keeps_the_still_valid_token(caplog):
    """If the proactive refresh fails, calls go on with the cached token while it is valid."""
    clock = FakeClock()
    answers = [
        token_answer("first", lifetime=100),
        httpx.ConnectError("down"),
        token_answer("third", lifetime=100),
    ]

    async def fetch(timeout):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise ConnectionError("token endpoint down")
        return answer

    tokens, flight = ManagementTokens(fetch), Flight(clock)
    assert await tokens.get(1.0, flight) == "first"
    clock.time += 95  # inside the refresh margin, before expiry
    with caplog.at_level(logging.WARNING, logger="authing_mfa"):
        assert await tokens.get(1.0, flight) == "first"
    assert "refreshing the management token failed" in caplog.text
    assert await tokens.get(1.0, flight) == "first"  # the next try waits a little
    clock.time += 4.5
    assert await tokens.get(1.0, flight) == "third"
    assert tokens.fetches == 3


@pytest.mark.asyncio
async def test_a_failed_refresh_of_an_expired_token_raises():
    """Once the cached token has expired, a failed refresh raises the failure."""
    clock = FakeClock()
    answers = [token_answer("first", lifetime=100)]

    async def fetch(timeout):
        if answers:
            return answers.pop(0)
        raise ConnectionError("token endpoint down")

    tokens, flight = ManagementTokens(fetch), Flight(clock)
    await tokens.get(1.0, flight)
    clock.time += 100
    with pytest.raises(ConnectionError):
        await tokens.get(1.0, flight)


@pytest.mark.asyncio
async def test_a_call_waiting_for_another_calls_fetch_waits_no_longer_than_its_own_budget():
    """A call with 0.05 s left gives up on a fetch another call started; the fetch goes on."""
    release = asyncio.Event()

    async def fetch(budget):
        await release.wait()  # a token answer still arriving, well within the fetcher's budget
        return token_answer("slow")

    tokens, flight = ManagementTokens(fetch), Flight(FakeClock())
    fetcher = asyncio.create_task(tokens.get(60.0, flight))
    await asyncio.sleep(0)  # the fetcher holds the lock now
    with pytest.raises(TimeoutError, match="total_timeout"):
        await asyncio.wait_for(tokens.get(0.05, flight), 5)  # not 5: a wait without a bound
    release.set()
    assert await fetcher == "slow"
    assert await tokens.get(0.05, flight) == "slow"  # the lock was left free
    assert tokens.fetches == 1


@pytest.mark.asyncio
async def test_a_caller_that_fetches_after_waiting_fetches_within_what_the_wait_left():
    """The fetch it waited for was cancelled: its own fetch gets its budget less the wait."""
    clock, budgets, first = FakeClock(), [], asyncio.Event()

    async def fetch(budget):
        budgets.append(budget)
        if len(budgets) == 1:
            await first.wait()  # never set: this fetch is cancelled
        return token_answer("mine")

    tokens, flight = ManagementTokens(fetch), Flight(clock)
    fetcher = asyncio.create_task(tokens.get(60.0, flight))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(tokens.get(10.0, flight))
    await asyncio.sleep(0)
    clock.time += 4  # the waiter has waited 4 s of its 10
    fetcher.cancel()
    assert await asyncio.wait_for(waiter, 5) == "mine"
    assert budgets == [60.0, 6.0]
