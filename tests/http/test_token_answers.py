"""The token request follows the same status rules as every other request, on every stack.

A gateway answers ``POST /graphql/v2`` like any other path: 408, 429 with ``Retry-After``,
5xx with a JSON, HTML or empty body. Those are retried, and raise the status's error once the
retries are spent; only then is the body read as GraphQL.
"""

from __future__ import annotations

import json

import pytest
from conversation_runner import (
    AIOHTTP_ASYNC,
    AIOHTTP_SYNC,
    HTTPX_ASYNC,
    Conversation,
    run,
)
from hostile_server import Answer, json_answer, token_body

from authing_mfa import ApiError, AuthenticationError, RateLimitError, ServerError

RUNNERS = [
    pytest.param(runner, id=runner.name) for runner in (AIOHTTP_ASYNC, HTTPX_ASYNC, AIOHTTP_SYNC)
]
BUSY = json.dumps({"message": "upstream busy"}).encode()
GRAPHQL_ERROR = json.dumps(
    {"errors": [{"message": {"code": 2224, "message": "用户池不存在"}}], "data": None}
).encode()


def answer(status: bytes, body: bytes = b"", *headers: tuple[bytes, bytes]) -> Answer:
    return Answer(status_line=b"HTTP/1.1 " + status, headers=headers, body=body)


RETRYABLE = [
    pytest.param(answer(b"429 Too Many Requests", BUSY, (b"Retry-After", b"0")), id="429-json"),
    pytest.param(answer(b"429 Too Many Requests", b"", (b"Retry-After", b"0.1")), id="429-empty"),
    pytest.param(answer(b"408 Request Timeout", BUSY), id="408-json"),
    pytest.param(answer(b"502 Bad Gateway", BUSY), id="502-json"),
    pytest.param(answer(b"503 Service Unavailable", BUSY), id="503-json"),
    pytest.param(answer(b"504 Gateway Timeout", b"<html>timeout</html>"), id="504-html"),
    pytest.param(answer(b"500 Internal Server Error", GRAPHQL_ERROR), id="500-graphql"),
]


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("first", RETRYABLE)
def test_a_retryable_token_answer_is_retried(hostile, runner, first):
    """408, 429 and 5xx on the token path are retried whatever the body, then the call succeeds."""
    outcome = run(hostile, Conversation(token=(first,), max_retries=1), runner)
    assert outcome.result == "record MfaStatus", outcome
    assert outcome.seen == (2, 1)


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize(
    ("status", "expected"),
    [(b"502 Bad Gateway", ServerError), (b"503 Service Unavailable", ServerError)],
)
def test_a_token_path_that_stays_down_raises_server_error(hostile, runner, status, expected):
    """After the retries, a gateway's JSON 5xx is a ServerError with its message."""
    conversation = Conversation(token=(answer(status, BUSY),) * 3, max_retries=2)
    outcome = run(hostile, conversation, runner)
    assert type(outcome.error) is expected, outcome
    assert outcome.error.message == "upstream busy"
    assert outcome.error.http_status == int(status[:3])
    assert outcome.seen == (3, 0)


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_token_path_rate_limited_throughout_raises_rate_limit_error(hostile, runner):
    """429 on every token request: RateLimitError, with the Retry-After, after the retries."""
    limited = answer(b"429 Too Many Requests", BUSY, (b"Retry-After", b"0.1"))
    outcome = run(hostile, Conversation(token=(limited,) * 2, max_retries=1), runner)
    assert type(outcome.error) is RateLimitError, outcome
    assert outcome.error.retry_after == pytest.approx(0.1)
    assert outcome.seen == (2, 0)


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_long_retry_after_on_the_token_path_raises_at_once(hostile, runner):
    """A Retry-After past max_retry_wait raises RateLimitError at once, carrying the wait."""
    limited = answer(b"429 Too Many Requests", BUSY, (b"Retry-After", b"3600"))
    outcome = run(hostile, Conversation(token=(limited,), max_retries=2), runner)
    assert type(outcome.error) is RateLimitError, outcome
    assert outcome.error.retry_after == pytest.approx(3600, abs=1)
    assert outcome.seen == (1, 0)


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize(
    ("first", "expected", "code"),
    [
        pytest.param(json_answer(GRAPHQL_ERROR), AuthenticationError, 2224, id="200-graphql"),
        pytest.param(
            json_answer(GRAPHQL_ERROR, b"400 Bad Request"),
            AuthenticationError,
            2224,
            id="400-graphql",
        ),
        pytest.param(answer(b"401 Unauthorized"), AuthenticationError, 401, id="401-empty"),
        pytest.param(answer(b"404 Not Found", b"<html>no</html>"), ApiError, 404, id="404-html"),
        pytest.param(
            answer(b"301 Moved", b"", (b"Location", b"https://evil.example/")),
            ApiError,
            301,
            id="301",
        ),
    ],
)
def test_other_token_answers_are_not_retried(hostile, runner, first, expected, code):
    """GraphQL errors are refused credentials; other 3xx/4xx raise the status's error at once."""
    outcome = run(hostile, Conversation(token=(first,), max_retries=2), runner)
    assert type(outcome.error) is expected, outcome
    assert outcome.error.code == code
    assert outcome.seen == (1, 0)


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            b'{"data": {"accessToken": {"accessToken": "t", "exp": NaN, "iat": 2}}}', id="nan"
        ),
        pytest.param(token_body("line\r\nx-forged: 1"), id="line-break"),
        pytest.param(token_body("tökén"), id="not-ascii"),
        pytest.param(token_body("two words"), id="space"),
    ],
)
def test_a_token_a_header_cannot_carry_is_a_bad_answer(hostile, runner, body):
    """A token with a line break, a space or a non-ASCII letter, or no finite expiry, is refused."""
    outcome = run(hostile, Conversation(token=(json_answer(body),)), runner)
    assert outcome.result == "error ResponseValidationError", outcome
    assert outcome.seen == (1, 0)
