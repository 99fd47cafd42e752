"""A call ends within ``total_timeout`` however the server drags its answer out.

A server that trickles its answer, a byte at a time and each byte within ``timeout``, never
stalls, so no per-step timeout ends it; nor does a body that never ends. httpx bounds each
read and the aiohttp stack each piece of a body, so only a bound on the whole exchange (what
remains of ``total_timeout``) ends such an answer. Each case runs through every stack and
client, against the hostile server on loopback, and must end in a typed error (or the
record, when the answer is over in time) by ``total_timeout`` and a margin for the runners'
own start and stop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from typing import Literal

import pytest
from conversation_runner import RUNNERS, Conversation, Runner, client_settings, run
from hostile_server import Answer, Trickle, envelope, json_answer, token_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authing_mfa import AsyncMfaClient, AuthingMfaError, TimeoutError  # noqa: A004

# A runner's own start and stop (a thread, a loop, a portal) and the server's thread, on a
# busy machine: generous next to the budget (calls overran it by 0.2 s at most over 150 runs
# beside a running test suite), far below "forever" or an attempt's budget spent anew.
MARGIN = 1.5
TIMEOUT = 0.4
TOTAL_TIMEOUT = 1.5

_ENDINGS = {"error TimeoutError", "error ConnectionError"}


def _conversation(
    answer: Answer,
    *,
    on_token: bool = False,
    max_retries: int = 2,
    timeout: float = TIMEOUT,
    total_timeout: float = TOTAL_TIMEOUT,
) -> Conversation:
    options = (("timeout", timeout), ("total_timeout", total_timeout))
    every_attempt = (answer,) * (max_retries + 1)
    if on_token:
        return Conversation(token=every_attempt, max_retries=max_retries, options=options)
    return Conversation(api=every_attempt, max_retries=max_retries, options=options)


def _assert_ends_in_time(
    server, conversation: Conversation, runner: Runner, endings: set[str]
) -> None:
    outcome = run(server, conversation, runner)
    total = dict(conversation.options)["total_timeout"]
    assert outcome.result in endings, (runner.name, outcome, str(outcome.error))
    assert outcome.leaks == (), (runner.name, outcome)
    assert outcome.elapsed <= total + MARGIN, (runner.name, outcome)


def _head_trickled(interval: float = 0.05) -> Answer:
    # About 60 bytes of head at 0.05 s a byte: three seconds, twice the budget.
    return Answer(body=b"{}", trickle=Trickle("headers", interval))


def _body_trickled(
    framing: Literal["length", "chunked", "eof"] = "length", interval: float = 0.05
) -> Answer:
    return Answer(
        framing=framing,
        length=b"50000000" if framing == "length" else None,
        trickle=Trickle("body", interval, endless=True),
    )


CASES = [
    pytest.param(_head_trickled(), False, {"error TimeoutError"}, id="head-trickled"),
    pytest.param(_body_trickled("length"), False, {"error TimeoutError"}, id="long-body-trickled"),
    pytest.param(
        _body_trickled("chunked"), False, {"error TimeoutError"}, id="chunked-body-trickled"
    ),
    pytest.param(_body_trickled("eof"), False, {"error TimeoutError"}, id="body-to-close-trickled"),
    # aiohttp refuses the body at 64 MiB (ConnectionError); httpx reads on, keeping no more
    # than that, until the budget is spent (TimeoutError).
    pytest.param(_body_trickled("chunked", 0), False, _ENDINGS, id="endless-body-sent-fast"),
    pytest.param(_head_trickled(), True, {"error TimeoutError"}, id="token-head-trickled"),
    pytest.param(_body_trickled("chunked"), True, {"error TimeoutError"}, id="token-body-trickled"),
]


@pytest.mark.slow  # each case waits out a budget on every runner
@pytest.mark.parametrize("runner", RUNNERS, ids=lambda runner: runner.name)
@pytest.mark.parametrize(("answer", "on_token", "endings"), CASES)
def test_a_dragged_out_answer_ends_the_call_within_total_timeout(
    hostile, runner, answer, on_token, endings
):
    _assert_ends_in_time(hostile, _conversation(answer, on_token=on_token), runner, endings)


@pytest.mark.slow  # waits out a budget twice
def test_a_body_trickled_past_the_budget_is_a_timeout_naming_total_timeout(hostile):
    """The error says which limit ended the call: not a stall, the call's whole budget."""
    conversation = _conversation(_body_trickled("chunked"), max_retries=0, total_timeout=0.6)
    for runner in RUNNERS[:2]:  # aiohttp and httpx, under asyncio
        outcome = run(hostile, conversation, runner)
        assert outcome.result == "error TimeoutError", (runner.name, outcome)
        assert "total_timeout" in str(outcome.error), (runner.name, str(outcome.error))


@st.composite
def dragged_out(draw: st.DrawFn) -> Conversation:
    """A token or API answer trickled or without end, under a budget of a second or two."""
    timeout = draw(st.floats(0.2, 0.6))
    total_timeout = draw(st.floats(timeout, 2.0))
    where = draw(st.sampled_from(["headers", "body"]))
    framing = draw(st.sampled_from(["length", "chunked", "eof"]))
    # Each byte comes well within the timeout: nothing ever stalls.
    interval = draw(st.sampled_from([0.0, 0.01, 0.05, timeout / 2]))
    endless = where == "body" and draw(st.booleans())
    if where == "headers" and interval == 0:
        interval = 0.01
    body = draw(st.sampled_from([b"", b"{}", b'{"code": 200}', b"x" * 3000]))
    answer = Answer(
        body=body,
        framing=framing,
        length=b"50000000" if endless and framing == "length" else None,
        trickle=Trickle(where, interval, endless=endless),
    )
    on_token = draw(st.booleans())
    max_retries = draw(st.integers(0, 2))
    every_attempt = (answer,) * (max_retries + 1)
    return Conversation(
        token=every_attempt if on_token else (json_answer(token_body()),),
        api=() if on_token else every_attempt,
        max_retries=max_retries,
        options=(("timeout", timeout), ("total_timeout", total_timeout)),
    )


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("AUTHING_MFA_TRICKLE_EXAMPLES", "6")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(conversation=dragged_out())
def test_no_way_of_dragging_an_answer_out_holds_a_call_past_total_timeout(hostile, conversation):
    """Every runner ends the call by total_timeout, in a typed error or a record, unleaked."""
    endings = _ENDINGS | {"error ResponseValidationError", "error ServerError", "error ApiError"}
    for runner in RUNNERS:
        outcome = run(hostile, conversation, runner)
        total = dict(conversation.options)["total_timeout"]
        assert outcome.result in endings or outcome.result.startswith("record"), (
            runner.name,
            outcome,
            str(outcome.error),
        )
        assert outcome.leaks == (), (runner.name, outcome)
        assert outcome.elapsed <= total + MARGIN, (runner.name, outcome)


def _slowly(answer: Answer, seconds: float) -> Answer:
    """*answer* with its body trickled over about *seconds*, each byte well within a timeout."""
    return dataclasses.replace(answer, trickle=Trickle("body", seconds / len(answer.body)))


@pytest.mark.slow  # waits out a budget on every runner
@pytest.mark.parametrize("runner", RUNNERS, ids=lambda runner: runner.name)
@pytest.mark.parametrize("case", ["token-fetched-slowly", "token-refused-slowly"])
def test_every_request_of_an_attempt_shares_what_remains_of_its_budget(hostile, runner, case):
    """A token fetch, or a refused request, that used most of the budget leaves the rest only.

    The first request here takes 2 s of the 3 s budget, arriving slowly but in time; the next
    one (the API call, or its replay with a new token) trickles on without end. The call ends
    at 3 s, not 2 s plus a budget of its own.
    """
    if case == "token-fetched-slowly":
        token: tuple[Answer, ...] = (_slowly(json_answer(token_body()), 2.0),)
        api: tuple[Answer, ...] = (_body_trickled(),)
    else:
        refused = _slowly(json_answer(envelope(None, 2020, "token refused")), 2.0)
        token, api = (), (refused, _body_trickled())
    conversation = Conversation(
        token=token,
        api=api,
        max_retries=0,
        options=(("timeout", TIMEOUT), ("total_timeout", 3.0)),
    )
    _assert_ends_in_time(hostile, conversation, runner, {"error TimeoutError"})


@pytest.mark.slow  # waits out a budget
@pytest.mark.parametrize("http_backend", ["aiohttp", "httpx"])
def test_a_replay_after_a_slow_refusal_on_a_warm_client_gets_what_remains(hostile, http_backend):
    """With a token cached, a call's first request goes out before the retry loop does.

    That request is refused after 2 s of the 3 s budget; the replay with a new token gets the
    1 s that remains, not the whole budget again.
    """
    refused = _slowly(json_answer(envelope(None, 2020, "token refused")), 2.0)
    ok = json_answer(envelope({"OTP": False}))
    conversation = Conversation(options=(("timeout", TIMEOUT), ("total_timeout", 3.0)))
    options = {**client_settings(hostile, conversation), "http_backend": http_backend}

    async def main() -> tuple[float, BaseException | None]:
        async with AsyncMfaClient(**options) as client:
            await client.get_status("u1")  # fetches and caches the token
            started = time.monotonic()
            try:
                await asyncio.wait_for(client.get_status("u1"), 30)
            except AuthingMfaError as exc:
                return time.monotonic() - started, exc
            return time.monotonic() - started, None

    with hostile.play((), (ok, refused, _body_trickled()), ok):
        elapsed, error = asyncio.run(main())
    assert isinstance(error, TimeoutError), error
    assert elapsed <= 3.0 + MARGIN, elapsed
