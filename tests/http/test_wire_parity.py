"""Both stacks put the same requests on the wire, header for header, cookies included.

The aiohttp stack keeps one session per kind of request, whose default headers are that
kind's (`_http._aiohttp._Sender`), and swaps a new token's headers in; httpx's client takes
each request's headers as they come. Whatever either does inside, the server must see the
same requests from both, under every event loop, as tokens change and cookies arrive.
"""

from __future__ import annotations

import asyncio

import anyio
import httpx
import pytest
from conversation_runner import Conversation, client_settings, default_api_answer
from hostile_server import (
    TOKEN,
    TOTP_KEY,
    Answer,
    Stall,
    envelope,
    json_answer,
    token_body,
)

from authing_mfa import AsyncMfaClient, __version__
from authing_mfa._http._aiohttp import AiohttpStack

SECOND_TOKEN = "eyJhbGciOiJIUzI1NiJ9.second-token-4c1d.c2lnbmF0dXJl"
# Headers an HTTP library adds by itself, which the protocol leaves to it.
LIBRARY_OWN = {"host", "connection"}
RUNS = [("asyncio", "aiohttp"), ("asyncio", "httpx"), ("trio", "httpx")]


def _requests(heads: list[bytes]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each request's line and its headers (sorted, duplicates kept), without the library's."""
    requests = []
    for head in heads:
        line, *fields = head.decode("latin-1").split("\r\n")
        pairs = []
        for field in fields:
            name, _, value = field.partition(":")
            if name.lower() not in LIBRARY_OWN:
                pairs.append((name.lower(), value.strip()))
        requests.append((line, sorted(pairs)))
    return requests


def _session(hostile, backend: str, http_backend: str) -> list[tuple[str, list[tuple[str, str]]]]:
    settings = client_settings(hostile, Conversation(max_retries=0))

    async def main() -> None:
        async with AsyncMfaClient(**settings, http_backend=http_backend) as mfa:
            await mfa.get_status("u1")
            await mfa.import_totp("u2", TOTP_KEY)
            await mfa.get_status("u3")  # the token is refused: a new one, and a replay
            await mfa.import_totp("u4", TOTP_KEY)
            await mfa.unassociate_mfa("u5", "otp")
            await mfa.get_status("u6")

    status, imported = default_api_answer("get_status"), default_api_answer("import_totp")
    refused = json_answer(envelope(None, 2020, "token refused"))
    api = (status, imported, refused, status, imported, default_api_answer("unassociate_mfa"))
    tokens = (json_answer(token_body(TOKEN)), json_answer(token_body(SECOND_TOKEN)))
    with hostile.play(tokens, api, status) as seen:
        anyio.run(main, backend=backend)
    assert seen == {"token": 2, "api": 7}
    return _requests(hostile.heads)


def test_every_stack_sends_the_same_requests_through_a_token_change(hostile):
    """Token requests, GETs, JSON POSTs and DELETEs, before and after a new token: the same."""
    sent = {run: _session(hostile, *run) for run in RUNS}
    reference = sent[RUNS[0]]
    for run, requests in sent.items():
        assert requests == reference, run
    tokens_seen = []
    for line, headers in reference:
        names = [name for name, _ in headers]
        assert len(names) == len(set(names)), (line, headers)  # no header sent twice
        fields = dict(headers)
        assert fields["x-authing-sdk-version"] == f"python-authing-mfa:{__version__}"
        if line.startswith("POST /graphql/v2 "):
            assert "authorization" not in fields
            tokens_seen.append("fetch")
        else:
            tokens_seen.append(fields["authorization"])
        assert ("content-type" in fields) == line.startswith("POST ")
    first, second = f"Bearer {TOKEN}", f"Bearer {SECOND_TOKEN}"
    assert tokens_seen == ["fetch", first, first, first, "fetch", *[second] * 4]


@pytest.mark.parametrize("run", RUNS, ids=["/".join(run) for run in RUNS])
def test_a_token_change_leaves_no_old_token_on_the_wire(hostile, run):
    """After the new token arrives, the old one is never sent again, by any kind of request."""
    requests = _session(hostile, *run)
    second_fetch = [i for i, (line, _) in enumerate(requests) if "/graphql/v2" in line][1]
    for _line, headers in requests[second_fetch:]:
        assert ("authorization", f"Bearer {TOKEN}") not in headers


def test_a_request_sends_its_own_headers_while_the_next_ones_replace_them(hostile):
    """A request waiting for a connection keeps the headers it was sent with.

    The aiohttp stack swaps a new token's headers into the session all requests of that kind
    share; aiohttp copies them as a request starts, before it waits for anything. Here one
    request holds the only connection, a second waits for it with a new token, and a third
    swaps the first token back in meanwhile: the second must still send its own.
    """
    options = client_settings(hostile, Conversation())
    settings = AsyncMfaClient(**options, limits=httpx.Limits(max_connections=1))._settings
    old = {"x-authing-userpool-id": "5cce4aa83ed9f97b4dfd95f0", "authorization": "Bearer old"}
    new = {**old, "authorization": "Bearer new"}
    url = hostile.url + "/api/v2/users/u1/mfa-bound"

    async def main() -> None:
        stack = AiohttpStack(settings)
        try:
            first = asyncio.create_task(stack.send("GET", url, old, None, 5.0))
            await asyncio.sleep(0.05)  # it holds the connection: its answer comes 0.3 s late
            second = asyncio.create_task(stack.send("GET", url, new, None, 5.0))
            await asyncio.sleep(0.05)  # it waits for the connection
            third = asyncio.create_task(stack.send("GET", url, old, None, 5.0))
            answers = await asyncio.gather(first, second, third)
            assert [answer.status_code for answer in answers] == [200, 200, 200]
        finally:
            await stack.aclose()

    late = Answer(body=envelope({"OTP": True}), stall=Stall("start", 0.3))
    with hostile.play((), (late,), default_api_answer("get_status")):
        asyncio.run(main())
    sent = sorted(dict(headers)["authorization"] for _line, headers in _requests(hostile.heads))
    assert sent == ["Bearer new", "Bearer old", "Bearer old"]


@pytest.mark.parametrize("run", RUNS, ids=["/".join(run) for run in RUNS])
def test_a_cookie_the_server_sets_is_sent_back_by_every_stack(hostile, run):
    """A gateway's cookie (a load balancer's affinity, say) returns on the next requests.

    httpx keeps cookies, and a caller's own `httpx.AsyncClient` would too; the aiohttp stack
    keeps them the same way, an IP address's included (aiohttp's default jar would not).
    """
    sticky = Answer(
        json_answer(token_body()).status_line,
        (
            (b"Content-Type", b"application/json"),
            (b"Set-Cookie", b"lb=node-7; Path=/"),
            (b"Set-Cookie", b"AWSALB=YWJj/ZGVm+Zw==; Path=/"),  # base64: sent back unquoted
        ),
        token_body(),
    )
    settings = client_settings(hostile, Conversation())

    async def main() -> None:
        async with AsyncMfaClient(**settings, http_backend=run[1]) as mfa:
            await mfa.get_status("u1")
            await mfa.unassociate_mfa("u1", "otp")

    with hostile.play((sticky,), (), default_api_answer("get_status")):
        anyio.run(main, backend=run[0])
    cookies = [dict(headers).get("cookie") for _line, headers in _requests(hostile.heads)]
    assert cookies[0] is None
    for cookie in cookies[1:]:
        assert cookie is not None
        assert sorted(cookie.split("; ")) == ["AWSALB=YWJj/ZGVm+Zw==", "lb=node-7"]
    assert len(cookies) == 3
