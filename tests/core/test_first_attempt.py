"""The usual call's first request skips the retry loop's coroutines; nothing else may change.

A call with a cached token, no hooks, and no bulk run's pacer holding requests back sends its
first request straight from the pipeline, and only a failure goes on into the retry loop. Any
sequence of answers must then end exactly as it does for a call that takes the loop from the
start (a client with hooks), and as the same call made as a row of a bulk run: the same
result or error, the same requests, the same token fetches.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import respx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.fakes import HOST, POOL_ID, POOL_SECRET, envelope, token_answer

from authing_mfa import AsyncMfaClient, AuthingMfaError

STATUS_URL = "/api/v2/users/u1/mfa-bound"

# What the server may answer a REST call with, by name (names keep failing examples readable).
ANSWERS: dict[str, Any] = {
    "ok": lambda: envelope({"OTP": True}),
    "503": lambda: httpx.Response(503, text="busy"),
    "429": lambda: httpx.Response(429, text="slow down"),
    "token-refused-2020": lambda: envelope(code=2020, message="token expired"),
    "token-refused-401": lambda: httpx.Response(401, json={"code": 401, "message": "no"}),
    "not-found": lambda: envelope(code=2004, message="no such user"),
    "business-500": lambda: envelope(code=500, message="busy inside"),
    "connect-error": lambda: httpx.ConnectError("refused"),
    "read-timeout": lambda: httpx.ReadTimeout("stalled"),
    "not-an-envelope": lambda: httpx.Response(200, text="<html>"),
}


def _run(answers: list[str], max_retries: int, *, how: str) -> tuple[str, int, int, list[int]]:
    """Make one call against *answers*; return its outcome, REST and token requests, attempts."""
    router = respx.Router(base_url=HOST, assert_all_called=False)
    token = router.post("/graphql/v2").mock(return_value=token_answer())
    queue = [ANSWERS[name]() for name in answers]

    def answer(_: httpx.Request) -> httpx.Response:
        reply = queue.pop(0) if queue else envelope({"OTP": False})
        if isinstance(reply, Exception):
            raise reply
        return reply

    rest = router.get(STATUS_URL).mock(side_effect=answer)
    attempts: list[int] = []  # of the call under test's requests, as the hooks saw them
    options: dict[str, Any] = {}
    if how == "hooked":
        options["on_request"] = lambda event: (
            attempts.append(event.attempt) if event.path == STATUS_URL else None
        )

    async def call() -> str:
        async with AsyncMfaClient(
            user_pool_id=POOL_ID,
            secret=POOL_SECRET,
            transport=httpx.MockTransport(router.async_handler),
            max_retries=max_retries,
            wait_initial=0.0001,
            wait_max=0.0001,
            **options,
        ) as mfa:
            # A first call that fetches the token, so the call under test finds it cached.
            router.get("/api/v2/users/warm/mfa-bound").mock(return_value=envelope({}))
            await mfa.get_status("warm")
            try:
                if how == "bulk":
                    async with mfa.get_status_many(["u1"]) as outcomes:
                        (outcome,) = [outcome async for outcome in outcomes]
                    if outcome.error is not None:
                        raise outcome.error
                    status = outcome.result
                else:
                    status = await mfa.get_status("u1")
            except AuthingMfaError as exc:
                return f"error {type(exc).__name__} {getattr(exc, 'code', '')}"
            return f"result {status.otp}"

    outcome = asyncio.run(call())
    return outcome, rest.call_count, token.call_count, attempts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    answers=st.lists(st.sampled_from(sorted(ANSWERS)), min_size=1, max_size=6),
    max_retries=st.integers(0, 3),
)
@example(answers=["token-refused-2020", "ok"], max_retries=0)
@example(answers=["token-refused-2020", "token-refused-2020"], max_retries=2)
@example(answers=["503", "token-refused-401", "ok"], max_retries=1)
@example(answers=["connect-error", "ok"], max_retries=0)
def test_the_first_request_ends_as_it_would_in_the_retry_loop(answers, max_retries):
    """The same answers give the same outcome, requests and token fetches: hooks, bulk or not."""
    plain = _run(answers, max_retries, how="plain")
    hooked = _run(answers, max_retries, how="hooked")
    bulk = _run(answers, max_retries, how="bulk")
    assert plain[:3] == hooked[:3] == bulk[:3], (plain, hooked, bulk)
    # The hooks saw each request of the call under test, numbered by attempt from 1 on.
    attempts = hooked[3]
    assert len(attempts) == hooked[1], hooked
    assert attempts[0] == 1
    assert attempts == sorted(attempts), hooked
