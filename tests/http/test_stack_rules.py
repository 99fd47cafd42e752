"""One rule per cause, on both HTTP stacks: what each kind of broken answer or request becomes.

- the server breaks HTTP (status line, headers, Content-Length, chunking, content coding,
  truncation, a status outside 200-599): `ConnectionError`, retried;
- any 3xx, 304 included, with or without Location, whatever its body: `ApiError` naming the
  status and the target, not retried; redirects are never followed;
- a network step that stalls past ``timeout``: `TimeoutError`, retried;
- a request the stack cannot send as built (a URL too long, a header that is not printable
  ASCII, a URL or scheme the library refuses), or anything else a library raises:
  `TransportError` itself, not retried;

and never a library's exception, nor one chained to it.
"""

from __future__ import annotations

import asyncio
import gzip
import sys
import traceback

import anyio
import httpx
import pytest
from conversation_runner import (
    AIOHTTP_ASYNC,
    HTTPX_ASYNC,
    HTTPX_TRIO,
    LONG_STALL,
    MARGIN,
    SECRETS,
    TIMEOUT,
    Conversation,
    client_settings,
    default_api_answer,
    leaks_in_exception,
    run,
)
from hostile_server import (
    POOL_SECRET,
    TOKEN,
    Answer,
    Stall,
    envelope,
    json_answer,
    token_body,
)

from authing_mfa import (
    ApiError,
    AsyncMfaClient,
    AuthingMfaError,
    ConnectionError,  # noqa: A004
    TimeoutError,  # noqa: A004
    TransportError,
)
from authing_mfa._http._aiohttp import AiohttpStack
from authing_mfa._http._answer import MAX_BODY
from authing_mfa._http._httpx import HttpxStack

# aiohttp against httpx under both event loops; the blocking client runs the same stacks
# and is compared with them in test_hostile_conversations.py.
RUNNERS = [
    pytest.param(runner, id=runner.name) for runner in (AIOHTTP_ASYNC, HTTPX_ASYNC, HTTPX_TRIO)
]
STATUS = envelope({"FACE": False, "OTP": True})
HTML_503 = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
BROKEN = [
    pytest.param(Answer(status_line=b"HTTP/1.1 2OO OK", body=STATUS), id="status-line"),
    pytest.param(Answer(status_line=b"HTTP/2 200 OK", body=STATUS), id="http-version"),
    pytest.param(Answer(body=STATUS, length=b"abc"), id="content-length-text"),
    pytest.param(Answer(body=STATUS, length=b"+57"), id="content-length-sign"),
    pytest.param(Answer(body=STATUS, length_delta=20, keep_alive=False), id="body-cut-short"),
    pytest.param(Answer(body=STATUS, cut="body"), id="closed-mid-body"),
    pytest.param(Answer(body=STATUS, cut="headers"), id="closed-mid-headers"),
    pytest.param(Answer(cut="start"), id="closed-before-status"),
    # Ends through aiohttp's watchdog after the attempt's timeout: a second of waiting.
    pytest.param(
        Answer(body=STATUS, framing="chunked", bad_chunks=True),
        id="bad-chunk",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        Answer(headers=((b"Content-Encoding", b"gzip"),), body=STATUS), id="gzip-not-gzip"
    ),
    pytest.param(
        Answer(headers=((b"Content-Encoding", b"gzip"),), body=gzip.compress(STATUS)[:20]),
        id="gzip-truncated",
    ),
    pytest.param(Answer(headers=((b"Content-Encoding", b"br"),), body=STATUS), id="coding-br"),
    pytest.param(
        Answer(headers=((b"Transfer-Encoding", b"identity"),), body=STATUS, framing="eof"),
        id="transfer-identity",
    ),
    pytest.param(
        Answer(headers=((b"Content-Length", b"57"),), body=STATUS, framing="chunked"),
        id="chunked-and-length",
    ),
    pytest.param(Answer(headers=((b"X-Odd", b"a\x01b"),), body=STATUS), id="control-in-header"),
    pytest.param(Answer(headers=((b"Bad Name", b"1"),), body=STATUS), id="bad-header-name"),
    pytest.param(Answer(headers=((b"X-Pad", b"p" * 70_000),), body=STATUS), id="head-70kb"),
    pytest.param(Answer(status_line=b"HTTP/1.1 101 Switching", body=b""), id="status-101"),
    pytest.param(Answer(status_line=b"HTTP/1.1 999 Odd", body=STATUS), id="status-999"),
]


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("broken", BROKEN)
def test_an_answer_that_breaks_http_is_a_retried_connection_error(hostile, runner, broken):
    """Every protocol violation is a ConnectionError, retried, on every stack."""
    outcome = run(hostile, Conversation(api=(broken, broken), max_retries=1), runner)
    assert outcome.result == "error ConnectionError", outcome
    assert outcome.seen == (1, 2)
    assert outcome.leaks == ()


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize(
    ("redirect", "says"),
    [
        pytest.param(
            Answer(b"HTTP/1.1 302 Found", ((b"Location", b"https://evil.example/steal"),)),
            "redirected to 'https://evil.example/steal' (HTTP 302)",
            id="302",
        ),
        pytest.param(
            Answer(b"HTTP/1.1 307 Temporary Redirect"),
            "answered HTTP 307 Temporary Redirect with no Location",
            id="307-no-location",
        ),
        pytest.param(
            Answer(b"HTTP/1.1 304 Not Modified"),
            "answered HTTP 304 Not Modified with no Location",
            id="304",
        ),
        pytest.param(
            Answer(b"HTTP/1.1 301 Moved", ((b"Location", b"/elsewhere"),), body=STATUS),
            "redirected to '/elsewhere' (HTTP 301)",
            id="301-with-an-envelope",
        ),
        pytest.param(
            Answer(b"HTTP/1.1 308 Permanent", body=envelope(None, 2004, "用户不存在")),
            "answered HTTP 308 Permanent with no Location",
            id="308-with-an-error-envelope",
        ),
    ],
)
def test_any_3xx_is_an_api_error_naming_the_target(hostile, runner, redirect, says):
    """A 3xx, whatever its body and Location, is an ApiError saying redirects are not followed."""
    outcome = run(hostile, Conversation(api=(redirect,), max_retries=2), runner)
    assert type(outcome.error) is ApiError, outcome
    assert says in str(outcome.error)
    assert "redirects are not followed" in str(outcome.error)
    assert outcome.error.http_status == int(redirect.status_line[9:12])
    assert outcome.seen == (1, 1)


@pytest.mark.slow  # waits out real stalls and timeouts
@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("where", ["start", "headers", "body"])
def test_a_stall_past_the_timeout_is_a_retried_timeout_error(hostile, runner, where):
    """A server that stops writing for longer than `timeout`: TimeoutError, after the retries."""
    stalled = Answer(body=STATUS, stall=Stall(where, LONG_STALL))
    # 0.4 s: a loaded machine's token request never takes that long; the stall takes longer.
    conversation = Conversation(api=(stalled, stalled), max_retries=1, options=(("timeout", 0.4),))
    outcome = run(hostile, conversation, runner)
    assert outcome.result == "error TimeoutError", outcome
    assert outcome.seen == (1, 2)
    assert "no answer within 0.4 s" in str(outcome.error)


@pytest.mark.slow  # waits out a real timeout
@pytest.mark.parametrize("runner", RUNNERS)
def test_a_server_that_never_answers_fails_the_attempt_after_timeout(hostile, runner):
    """Silence after the request ends the attempt after `timeout` on every stack, not later.

    The aiohttp stack bounds the wait for a head itself (its `Watch`); it once allowed twice
    the timeout there.
    """
    silent = Answer(body=STATUS, stall=Stall("start", 4.0))
    outcome = run(hostile, Conversation(api=(silent,), options=(("timeout", 1.0),)), runner)
    assert outcome.result == "error TimeoutError", outcome
    assert "no answer within 1 s" in str(outcome.error)
    assert outcome.elapsed < 1.8, outcome  # after 1 s, and well before twice that


@pytest.mark.slow  # waits out real stalls
@pytest.mark.parametrize(
    ("backend", "http_backend"),
    [("asyncio", "aiohttp"), ("asyncio", "httpx"), ("trio", "httpx")],
    ids=["aiohttp/asyncio", "httpx/asyncio", "httpx/trio"],
)
def test_waiting_for_a_connection_and_for_the_answer_each_have_the_timeout(
    hostile, backend, http_backend
):
    """A wait for a free connection, then a wait for the head, each under `timeout`: no error.

    One connection, two calls at once, each answer 0.6 s late with a timeout of 1 s: the
    second call waits 0.6 s for the connection and 0.6 s for its answer, 1.2 s in all, and
    must succeed on every stack, as httpx's separate pool and read timeouts allow.
    """
    slow = Answer(body=STATUS, stall=Stall("start", 0.6))
    settings = client_settings(hostile, Conversation(options=(("timeout", 1.0),)))
    settings["limits"] = httpx.Limits(max_connections=1)
    took: list[float] = []

    async def call(mfa: AsyncMfaClient) -> None:
        started = anyio.current_time()
        assert (await mfa.get_status("u1")).otp
        took.append(anyio.current_time() - started)

    async def main() -> None:
        async with (
            AsyncMfaClient(**settings, http_backend=http_backend) as mfa,
            anyio.create_task_group() as group,
        ):
            group.start_soon(call, mfa)
            group.start_soon(call, mfa)

    with hostile.play((), (slow, slow), default_api_answer("get_status")) as seen:
        anyio.run(main, backend=backend)
    assert seen["api"] == 2  # no attempt timed out and was sent again
    assert max(took) > 1.1, took  # the second call did wait for the connection


@pytest.mark.slow  # waits out a real timeout
@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("status_line", [b"HTTP/1.1 100 Continue", b"HTTP/1.1 199 Odd"])
def test_silence_after_an_interim_answer_is_a_timeout_error(hostile, runner, status_line):
    """An interim (1xx) answer, then nothing: TimeoutError on every stack, never a hang.

    Found by the fuzz run: aiohttp waits for the final answer with no read timeout once an
    interim one ended, so the call waited for as long as the server held the connection.
    """
    silent = Answer(status_line, body=b"", stall=Stall("body", 4.0))
    conversation = Conversation(api=(silent,), options=(("timeout", 0.4),))
    outcome = run(hostile, conversation, runner)
    assert outcome.result == "error TimeoutError", outcome
    assert outcome.seen == (1, 1)
    assert outcome.elapsed < 3.0, outcome  # the server closes only after 4 s
    # The timeout is retried like any other, and the task that waited goes on unharmed.
    retried = Conversation(
        api=(silent, Answer(body=STATUS)), max_retries=1, options=(("timeout", 0.4),)
    )
    outcome = run(hostile, retried, runner)
    assert outcome.result == "record MfaStatus", outcome
    assert outcome.seen == (1, 2)


@pytest.mark.slow  # waits out real timeouts
def test_the_wait_for_a_head_leaves_the_callers_cancellation_alone(hostile):
    """aiohttp's limit on the wait for a head cancels its own task; it must not eat another's.

    An outer deadline shorter than the client's still ends the call as the caller's
    cancellation; the client's own deadline raises our TimeoutError and leaves the task with
    no cancellation pending, so the caller's next await and next call work.
    """
    silent = Answer(b"HTTP/1.1 100 Continue", body=b"", stall=Stall("body", 4.0))
    conversation = Conversation(api=(silent, silent), options=(("timeout", 0.4),))
    settings = client_settings(hostile, conversation)

    async def main() -> None:
        async with AsyncMfaClient(**settings, http_backend="aiohttp") as mfa:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(mfa.get_status("u1"), 0.3)
            with pytest.raises(TimeoutError):
                await mfa.get_status("u1")
            task = asyncio.current_task()
            assert task is not None
            if sys.version_info >= (3, 11):
                assert task.cancelling() == 0
            await asyncio.sleep(0.01)  # a cancellation left pending would be raised here
            assert (await mfa.get_status("u1")).otp  # the script is over: a normal answer

    with hostile.play((), conversation.api, default_api_answer("get_status")) as seen:
        asyncio.run(main())
    assert seen["api"] == 3


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("length", [b"67108865", b"99999999999999999999", b"000067108865"])
def test_a_body_announced_over_the_limit_is_refused_before_it_is_read(hostile, runner, length):
    """A Content-Length past 64 MiB ends the exchange at the head: nothing of it is read."""
    huge = Answer(body=STATUS, length=length, stall=Stall("body", LONG_STALL), keep_alive=False)
    outcome = run(hostile, Conversation(api=(huge,)), runner)
    assert outcome.result == "error ConnectionError", outcome
    # aiohttp's own parser refuses a length past 2**64 before our check sees it.
    assert "announces a body over 67108864 bytes" in str(outcome.error) or (
        "Content-Length overflow" in str(outcome.error) and len(length) > 19
    )
    assert outcome.seen == (1, 1)
    assert outcome.elapsed < LONG_STALL, outcome  # refused before the stalled body


@pytest.mark.slow  # sends 64 MiB per runner
@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("framing", ["eof", "chunked"])
def test_a_body_that_runs_past_the_limit_is_refused(hostile, runner, framing):
    """A body with no length, or chunked, is refused once it runs past 64 MiB, not kept whole."""
    endless = Answer(body=b" " * (MAX_BODY + 70_000), framing=framing, keep_alive=False)
    # Time enough for the server to write 64 MiB: the limit must end the read, not a timeout.
    conversation = Conversation(api=(endless,), options=(("timeout", 5.0),))
    outcome = run(hostile, conversation, runner)
    assert outcome.result == "error ConnectionError", outcome
    assert "runs past 67108864 bytes" in str(outcome.error)


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_repeated_header_reads_as_its_values_joined(hostile, runner):
    """Two Retry-After headers read as "3600, 3600", which names no wait: the retry backs off."""
    limited = Answer(
        b"HTTP/1.1 429 Too Many Requests", ((b"Retry-After", b"3600"), (b"Retry-After", b"3600"))
    )
    outcome = run(hostile, Conversation(api=(limited,), max_retries=1), runner)
    assert outcome.result == "record MfaStatus", outcome
    assert outcome.seen == (1, 2)


def _surplus(answer: Answer) -> Answer:
    """*answer*, its Content-Length announcing less than the body it sends, then a close."""
    return Answer(
        status_line=answer.status_line,
        headers=answer.headers,
        body=answer.body,
        length_delta=-len(b" surplus after the token"),
        keep_alive=False,
    )


# Answers whose outcome is a stack's own: bytes past the announced end, a Content-Length
# repeated with the same value, a broken head cut by a stall. Each stack must still end in a
# typed error or a record, with no secret in it; the README names these differences.
STACK_DEPENDENT = [
    pytest.param(
        Conversation(
            api=(Answer(b"HTTP/1.1 204 OK", body=b"<html>" * 10, keep_alive=False),),
        ),
        id="body-on-a-204",
    ),
    pytest.param(
        Conversation(api=(Answer(body=STATUS + b"surplus", length_delta=-7, keep_alive=False),)),
        id="body-longer-than-content-length",
    ),
    pytest.param(
        Conversation(token=(_surplus(json_answer(token_body() + b" surplus after the token")),)),
        id="token-answer-with-surplus",
    ),
    pytest.param(
        Conversation(
            token=(
                Answer(
                    json_answer(token_body()).status_line,
                    ((b"Content-Length", str(len(token_body())).encode()),),
                    token_body(),
                ),
            ),
        ),
        id="content-length-repeated",
    ),
    pytest.param(
        Conversation(
            operation="unassociate_mfa",
            token=(
                Answer(
                    b"HTTP/1.1 308 Moved",
                    ((b"Location", b"/api/v2/elsewhere"), (b"Content-Length", b"0")),
                    keep_alive=False,
                ),
            ),
            max_retries=1,
        ),
        id="redirect-with-content-length-repeated",
    ),
    pytest.param(
        Conversation(
            api=(Answer(b"HTTP/1.1", body=b"<html></html>", stall=Stall("headers", LONG_STALL)),)
        ),
        id="broken-status-line-then-a-stall",
    ),
    pytest.param(
        # From a 900-example fuzz run: aiohttp refuses the framing as its lines arrive
        # (ConnectionError), httpx waits for the end of the head (TimeoutError).
        Conversation(
            api=(
                Answer(
                    headers=(
                        (b"Transfer-Encoding", b"identity"),
                        (b"Content-Length", b"99999"),
                        (b"X-Pad", b"p" * 200),  # so the stall comes after both
                    ),
                    body=STATUS,
                    stall=Stall("headers", LONG_STALL),
                    keep_alive=False,
                ),
            ),
        ),
        id="framing-headers-at-odds-then-a-stall",
    ),
    pytest.param(
        Conversation(
            api=(
                Answer(
                    b"HTTP/1.1 100 OK",
                    ((b"X-Odd", b"\x01"),),
                    stall=Stall("body", LONG_STALL),
                    keep_alive=False,
                ),
            ),
        ),
        id="interim-answer-with-a-control-character-then-a-stall",
    ),
]


@pytest.mark.slow  # waits out real stalls and timeouts
@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("conversation", STACK_DEPENDENT)
def test_stack_dependent_answers_still_end_in_a_typed_outcome(hostile, runner, conversation):
    """Where the stacks may differ, each ends in a record or AuthingMfaError, leaking nothing."""
    outcome = run(hostile, conversation, runner)
    assert outcome.result.startswith(("record ", "error ")), outcome
    assert outcome.leaks == (), outcome


def _settings(**overrides):
    options = {
        "host": "http://127.0.0.1:9",
        "user_pool_id": "pool",
        "secret": POOL_SECRET,
        "timeout": TIMEOUT,
    }
    return AsyncMfaClient(**{**options, **overrides})._settings


UNSENDABLE = [
    pytest.param("http://127.0.0.1:9/" + "a" * 100_000, {}, id="url-of-100-kb"),
    pytest.param("http://127.0.0.1:9/x", {"x-authing-lang": "中文"}, id="non-ascii-header"),
    pytest.param("http://127.0.0.1:9/x", {"x-custom": "a\r\nx-forged: 1"}, id="line-break"),
    pytest.param("http://127.0.0.1:9/x", {"authorization": f"Bearer {TOKEN}\n"}, id="token-nl"),
    pytest.param("ftp://127.0.0.1:9/x", {}, id="scheme-ftp"),
    pytest.param("http://[::1/x", {}, id="bad-ipv6-host"),
    pytest.param("http://127.0.0.1:99999/x", {}, id="port-out-of-range"),
]


@pytest.mark.parametrize("stack_class", [AiohttpStack, HttpxStack])
@pytest.mark.parametrize(("url", "headers"), UNSENDABLE)
def test_a_request_that_cannot_be_sent_is_a_transport_error(stack_class, url, headers):
    """What a stack cannot send is our TransportError itself, the same on both, unchained."""

    async def send():
        stack = stack_class(_settings())
        try:
            await stack.send("GET", url, {"x-authing-request-from": "sdk", **headers}, None, 1.0)
        finally:
            await stack.aclose()

    with pytest.raises(AuthingMfaError) as caught:
        asyncio.run(send())
    assert type(caught.value) is TransportError
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    assert leaks_in_exception(caught.value) == ()


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_header_setting_that_is_not_ascii_is_refused_the_same_everywhere(hostile, runner):
    """A non-ASCII app id: httpx raised UnicodeEncodeError where aiohttp sent it as UTF-8.

    The client refuses it at construction, naming the argument, before any stack sees it.
    """
    outcome = run(hostile, Conversation(options=(("app_id", "应用"),)), runner)
    assert outcome.result == "error InvalidArgumentError", outcome
    assert outcome.seen == (0, 0)
    assert "app_id must not contain non-ASCII characters" in str(outcome.error)


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_huge_user_id_never_escapes_the_hierarchy(hostile, runner):
    """A 100 KB user id ends in the same error on every stack, where httpx raised InvalidURL."""
    outcome = run(hostile, Conversation(user_id="u" * 100_000), runner)
    # User ids have a length limit, checked before anything is sent.
    assert outcome.result == "error InvalidArgumentError", outcome
    assert outcome.seen[1] == 0


class Raising(httpx.AsyncBaseTransport):
    """A transport that raises what it is given, as a broken or third-party transport may."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:  # noqa: ARG002
        raise self.exc


def _h11_remote():
    import h11

    return h11.RemoteProtocolError("illegal status line", 400)


def _h11_local():
    import h11

    return h11.LocalProtocolError("illegal header value")


def _httpcore(name):
    import httpcore

    return getattr(httpcore, name)("boom")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda: httpx.InvalidURL("URL too long"), TransportError, id="InvalidURL"),
        pytest.param(lambda: httpx.DecodingError("bad gzip"), ConnectionError, id="DecodingError"),
        pytest.param(lambda: httpx.UnsupportedProtocol("ftp"), TransportError, id="Unsupported"),
        pytest.param(lambda: httpx.LocalProtocolError("bad"), TransportError, id="LocalProtocol"),
        pytest.param(lambda: httpx.ProxyError("proxy down"), ConnectionError, id="ProxyError"),
        pytest.param(_h11_remote, ConnectionError, id="h11.RemoteProtocolError"),
        pytest.param(_h11_local, TransportError, id="h11.LocalProtocolError"),
        pytest.param(lambda: _httpcore("ReadError"), ConnectionError, id="httpcore.ReadError"),
        pytest.param(lambda: _httpcore("ReadTimeout"), TimeoutError, id="httpcore.ReadTimeout"),
        pytest.param(
            lambda: _httpcore("RemoteProtocolError"), ConnectionError, id="httpcore.Remote"
        ),
        pytest.param(lambda: "é".encode("ascii"), TransportError, id="UnicodeEncodeError"),
        pytest.param(lambda: OSError(104, "Connection reset"), ConnectionError, id="OSError"),
        pytest.param(lambda: ValueError("odd"), TransportError, id="ValueError"),
        pytest.param(lambda: RuntimeError("odd"), TransportError, id="RuntimeError"),
        pytest.param(lambda: KeyError("odd"), TransportError, id="KeyError"),
    ],
)
def test_whatever_an_httpx_transport_raises_becomes_ours(make, expected):
    """Every Exception from the httpx side becomes our class for its cause, unchained."""
    try:
        exc = make()
    except UnicodeEncodeError as raised:
        exc = raised

    async def call():
        async with AsyncMfaClient(
            user_pool_id="pool", access_token=TOKEN, transport=Raising(exc), max_retries=0
        ) as mfa:
            await mfa.get_status("u1")

    with pytest.raises(AuthingMfaError) as caught:
        asyncio.run(call())
    assert type(caught.value) is expected
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    assert leaks_in_exception(caught.value) == ()


class Interrupt(BaseException):
    """Stands for KeyboardInterrupt or a cancellation: not ours to translate."""


def test_a_base_exception_from_a_transport_is_not_translated():
    """Only Exceptions are translated; cancellation and interrupts pass through untouched."""

    async def call():
        async with AsyncMfaClient(
            user_pool_id="pool", access_token=TOKEN, transport=Raising(Interrupt())
        ) as mfa:
            await mfa.get_status("u1")

    with pytest.raises(Interrupt):
        asyncio.run(call())


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_malformed_answer_leaves_no_token_in_the_exception_chain(hostile, runner):
    """aiohttp's ClientResponseError holds the request's headers: it is never chained to ours."""
    broken = Answer(status_line=b"HTTP/1.1 2OO OK", body=STATUS)
    outcome = run(hostile, Conversation(api=(broken,)), runner)
    error = outcome.error
    assert type(error) is ConnectionError, outcome
    assert error.__cause__ is None
    assert error.__context__ is None
    formatted = "".join(traceback.format_exception(error))
    assert not any(secret in formatted for secret in SECRETS)
    assert outcome.leaks == ()


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_parser_error_quoting_the_token_answer_does_not_leak_it(hostile, runner):
    """aiohttp's parser quotes the bytes it refuses (here a token answer after a 204 and a
    close); our message names the error and never carries them."""
    answer = Answer(b"HTTP/1.1 204 No Content", body=token_body(), keep_alive=False)
    outcome = run(hostile, Conversation(token=(answer,)), runner)
    assert outcome.result.startswith(("record ", "error ")), outcome
    assert outcome.leaks == (), outcome


@pytest.mark.slow  # waits out real stalls and timeouts
@pytest.mark.parametrize("runner", RUNNERS)
def test_a_slow_failing_server_ends_the_call_within_total_timeout(hostile, runner):
    """Answers that each take most of `timeout` and fail: the call ends within total_timeout."""
    slow = Answer(b"HTTP/1.1 503 Busy", body=HTML_503, stall=Stall("start", 0.3))
    conversation = Conversation(
        api=(slow,) * 10, max_retries=9, options=(("timeout", 0.5), ("total_timeout", 1.0))
    )
    outcome = run(hostile, conversation, runner)
    assert outcome.result in {"error ServerError", "error TimeoutError"}, outcome
    assert outcome.elapsed <= 1.0 + MARGIN
    assert outcome.seen[1] < 10
