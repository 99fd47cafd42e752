"""The aiohttp stack: the default under asyncio, for its speed under concurrency (see `_http`)."""

from __future__ import annotations

__all__ = ["AiohttpStack"]

import asyncio
import builtins
import inspect
import urllib.request
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.tracing import Trace
from yarl import URL

from authing_mfa._settings import Settings

from ._answer import (
    ACCEPT_ENCODING,
    MAX_HEAD,
    Answer,
    ProtocolViolation,
    check_body_size,
    read_answer,
    read_head,
)
from ._failures import (
    MAX_URL_LENGTH,
    Kind,
    OverBudget,
    check_request,
    kind_of,
    transport_error,
)
from ._tls import tls_context
from ._watch import Watch

# What each library exception means (see `_failures`); the first match wins, and anything
# else (aiohttp's InvalidURL, yarl's ValueErrors...) is "unsendable".
_KINDS: tuple[tuple[tuple[type[BaseException], ...], Kind], ...] = (
    ((asyncio.TimeoutError, builtins.TimeoutError, aiohttp.ServerTimeoutError), "timeout"),
    (
        (
            # Raised on a malformed status line or header, a bad Content-Length: aiohttp
            # turns its parser's errors into a ClientResponseError, status 400.
            aiohttp.ClientResponseError,
            aiohttp.ClientConnectionError,
            aiohttp.ClientPayloadError,
            HttpProcessingError,
            OSError,
        ),
        "connection",
    ),
)


_SESSION_OPTIONS = frozenset(inspect.signature(aiohttp.ClientSession).parameters)


class AiohttpStack:
    """Sends through `aiohttp.ClientSession`s over one connector, opened on first use.

    The connector verifies TLS with the same certificates httpx would use and keeps at most
    ``limits.max_connections`` connections. Each set of headers the pipeline sends (one per
    kind of request and token: see `_Sender`) has a session of its own over it. No session
    follows redirects, decompresses (`_answer` does, for both stacks) or resends a request
    by itself.

    The stack times its requests itself. A request may take the step timeout to get a
    connection (aiohttp's ``sock_connect`` also bounds each attempt to connect), then the
    step timeout again from the moment it has one until the head of its answer has arrived
    (the time to send it and the server's time to answer): its `Watch` keeps both, and
    `_BodyWatch` the body; nothing runs past the exchange's budget. These limits replace
    aiohttp's ``connect`` and ``sock_read`` timeouts, for speed and for one gap. aiohttp
    keeps a timer per request for each (its read timer is moved on every chunk received):
    dropping them made a call at concurrency 32 cost 7 µs less CPU, a tenth of what raw
    aiohttp costs (measured on loopback, interleaved, 25 repetitions). And after an interim
    (1xx) answer aiohttp waits for the final head with no read timeout at all (aiohttp
    3.14), so ``100 Continue`` followed by silence would hold a call forever.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._step = settings.retry.timeout
        self._connector: _Connector | None = None
        self._cookies: aiohttp.CookieJar | None = None
        self._senders: dict[frozenset[str], _Sender] = {}  # by the names of their headers
        self._by_headers: dict[int, _Sender] = {}  # by the id() of their current headers
        self._last: _Sender | None = None  # the sender of the last request
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._proxy = _env_proxy_for(settings.host)
        self._plain = self._proxy is None and URL(settings.host).scheme == "http"
        self._heads = Watch()

    def _sender(self, url: str, headers: Mapping[str, str]) -> _Sender:
        """Return the sender of *headers*, checked: one this stack has, or a new one."""
        sender = self._by_headers.get(id(headers))
        if sender is not None and sender.headers is headers:
            return sender
        check_request(url, headers)  # headers this stack has not sent yet
        names = frozenset(headers)
        sender = self._senders.get(names)
        if sender is None:
            sender = self._senders[names] = _Sender(self._open(), headers)
        else:  # the same kind of request with a new token: the old headers are sent no more
            del self._by_headers[id(sender.headers)]
            sender.use(headers)
        self._by_headers[id(headers)] = sender
        return sender

    def _open(self) -> aiohttp.ClientSession:
        connector = self._connector
        if connector is None:
            limits = self._settings.limits
            connector = self._connector = _Connector(
                self._heads,
                limit=limits.max_connections or 0,
                limit_per_host=0,
                keepalive_timeout=limits.keepalive_expiry or 5.0,
                # Loading the certificates costs 30 ms: not for a plain-HTTP host reached
                # directly (a test server on loopback), where no connection speaks TLS.
                ssl=False if self._plain else tls_context(),
            )
            # One jar for all sessions, keeping cookies as one httpx client does: an IP
            # address's too (aiohttp's default would not) and sent back as they came
            # (aiohttp would quote a base64 value).
            self._cookies = aiohttp.CookieJar(unsafe=True, quote_cookie=False)
        # Not trust_env=True: aiohttp then looks up proxies and ~/.netrc in a worker thread on
        # every request (two thread hops, tripling the time of a call on loopback), and a
        # netrc entry for the host clashes with our authorization header. The proxy the
        # environment names for the host is looked up once instead, as httpx does.
        # Past these limits aiohttp refuses what httpx reads: `read_head` sets the limit.
        limits_of_head: dict[str, Any] = {"max_line_size": MAX_HEAD, "max_field_size": MAX_HEAD}
        if "max_headers" in _SESSION_OPTIONS:  # aiohttp >= 3.13.4 counts headers too
            limits_of_head["max_headers"] = MAX_HEAD // 4
        # The requests carry our user-agent, so aiohttp adds none of its own (skipping it with
        # skip_auto_headers would cost a few microseconds on every request).
        session = aiohttp.ClientSession(
            connector=connector,
            connector_owner=False,
            cookie_jar=self._cookies,
            trust_env=False,
            auto_decompress=False,
            **limits_of_head,
        )
        # aiohttp resends a GET or DELETE whose connection dropped, once, unseen: an attempt
        # then costs the server two requests, and `max_retries` means something else than
        # on httpx. Our retry loop decides. (aiohttp's own test client does the same.)
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False  # noqa: SLF001
        return session

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        # Most attempts use the configured timeout: build its object once. Only each attempt
        # to connect keeps aiohttp's own limit: the stack's `Watch` and `_BodyWatch` do the
        # rest (see `AiohttpStack`).
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                total=None, connect=None, sock_connect=seconds, sock_read=None
            )
            if len(self._timeouts) < 8:  # noqa: PLR2004 - a handful of distinct budgets
                self._timeouts[seconds] = timeout
        return timeout

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        budget: float,
    ) -> Answer:
        """Send a request through aiohttp; see `HttpStack.send`."""
        timeout = min(self._step, budget)
        heads = self._heads
        ticket = heads.watch(timeout, budget)
        try:
            sender = self._last
            if sender is None or sender.headers is not headers:
                sender = self._last = self._sender(url, headers)
            if len(url) > MAX_URL_LENGTH:
                check_request(url, headers)
            # encoded=True: the path is already percent-encoded and must reach the server
            # exactly so (yarl would otherwise re-quote it).
            async with sender.session.request(
                method,
                URL(url, encoded=True),
                data=body,
                timeout=self._timeouts.get(timeout) or self._timeout(timeout),
                allow_redirects=False,
                proxy=self._proxy,
            ) as response:
                heads.done(ticket)
                reason = response.reason or ""
                try:
                    answer_headers = read_head(response.status, reason, response.raw_headers)
                except ProtocolViolation:
                    _discard_connection(response)
                    raise
                if response.content.is_eof():  # the whole body came with the head, as usual
                    content = await response.read()
                else:
                    watch = _BodyWatch(response, timeout, ticket.end, budget)
                    try:
                        content = await _read_capped(response)
                    finally:
                        watch.cancel()
            return read_answer(response.status, reason, answer_headers, content)
        except asyncio.CancelledError:
            if not ticket.expired():
                raise
            stalled: Exception = (
                OverBudget(budget)
                if ticket.deadline >= ticket.end
                else aiohttp.ServerTimeoutError("no answer within the timeout")
            )
            error = transport_error("timeout", stalled, method, url, timeout)
        except Exception as exc:  # noqa: BLE001 - every library error becomes ours, below
            error = transport_error(kind_of(exc, _KINDS), exc, method, url, timeout)
        finally:
            heads.done(ticket)  # already, in the usual case: as the head arrived
        # Raised here, outside the except block, so it carries no __context__ either:
        # aiohttp's exceptions hold the request_info, and its headers the token.
        raise error from None

    async def aclose(self) -> None:
        """Close the sessions and their connections."""
        self._heads.close()
        senders, connector = list(self._senders.values()), self._connector
        self._senders, self._by_headers, self._last, self._connector = {}, {}, None, None
        for sender in senders:
            await sender.session.close()
        if connector is not None:
            await connector.close()


class _Sender:
    """A session whose default headers are those of one kind of request: sent as they are.

    The pipeline passes one mapping of headers per kind of request (an API call, one with a
    JSON body, the token request) and token. aiohttp merges the headers a request passes into
    its session's, one at a time in Python; a session that has them all already merges none.
    Measured with `python -m benchmarks --only async_c1 async_c32`, two runs each way: a
    call's CPU over raw aiohttp's at concurrency 32 fell from 8.5-9.5 µs to 5.4-6.0. A new
    token's headers replace the old ones in the same session.
    """

    __slots__ = ("headers", "session")

    def __init__(self, session: aiohttp.ClientSession, headers: Mapping[str, str]) -> None:
        self.session = session
        self.use(headers)

    def use(self, headers: Mapping[str, str]) -> None:
        """Send *headers* from now on.

        Requests under way keep theirs: aiohttp copies a session's default headers as a
        request starts, before its first wait (``ClientSession._request``), and this runs
        between two requests' starts. `tests/http/test_wire_parity.py` checks it.
        """
        self.headers = headers
        defaults = self.session.headers
        defaults.clear()
        defaults["Accept-Encoding"] = ACCEPT_ENCODING
        defaults.update(headers)


def _discard_connection(response: aiohttp.ClientResponse) -> None:
    """Close the connection an answer that broke HTTP came on, so it is never reused.

    httpx drops such a connection; aiohttp has already put it back in its pool when the
    body was complete (a 204, a Content-Length of 0), so its protocol is closed, which the
    pool notices on its next checkout.
    """
    protocol = getattr(response, "_protocol", None)  # kept by aiohttp once the head arrived
    response.close()
    if protocol is not None:
        protocol.close()


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    """Read a body still arriving, refusing it once it runs past `MAX_BODY` (see `_answer`)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        check_body_size(size)
        chunks.append(chunk)
    return b"".join(chunks)


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connector, telling the stack's `Watch` when a request has its connection."""

    def __init__(self, heads: Watch, **options: Any) -> None:  # noqa: ANN401
        super().__init__(**options)
        self._heads = heads

    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> Connection:
        """Return a connection for *req*, as aiohttp does, and start its wait for the head."""
        connection = await super().connect(req, traces, timeout)
        self._heads.connected()
        return connection


class _BodyWatch:
    """Ends a body read that stalls for *timeout* or outlasts *end*, or that waits for nothing.

    aiohttp keeps no read timeout here (see `AiohttpStack`): this looks at the body's stream
    every quarter of *timeout* and fails it (our `TimeoutError`) once nothing has arrived for
    *timeout*, which it notices at most a quarter of *timeout* late, or at *end* (on the
    loop's clock), when the exchange's *budget* is spent, however fast the body still
    arrives. It also fails a stream whose connection is gone (our `ConnectionError`): when
    aiohttp's parser fails inside a chunked body on a reused connection, it closes the
    connection but never fails the body's stream, so ``read()`` would wait forever
    (aiohttp 3.14).
    """

    __slots__ = (
        "_budget",
        "_end",
        "_handle",
        "_loop",
        "_moved",
        "_received",
        "_response",
        "_timeout",
    )

    def __init__(
        self, response: aiohttp.ClientResponse, timeout: float, end: float, budget: float
    ) -> None:
        self._response = response
        self._timeout = timeout
        self._end = end
        self._budget = budget
        self._loop = asyncio.get_running_loop()
        self._received = response.content.total_bytes
        self._moved = self._loop.time()  # when `_received` was first seen: the head came now
        self._handle = self._loop.call_at(self._next_check(self._moved), self._check)

    def _next_check(self, now: float) -> float:
        return min(now + self._timeout / 4, self._end)

    def _check(self) -> None:
        content = self._response.content
        if content.is_eof() or content.exception() is not None:
            return
        connection = self._response.connection
        now = self._loop.time()
        if connection is None or connection.transport is None:
            content.set_exception(
                aiohttp.ClientPayloadError("the connection was lost before the body ended")
            )
            return
        # The loop may run a timer a clock tick early: a millisecond counts as due.
        if now + 0.001 >= self._end:
            content.set_exception(OverBudget(self._budget))
            return
        if content.total_bytes != self._received:
            self._received, self._moved = content.total_bytes, now
        elif now - self._moved >= self._timeout:
            content.set_exception(aiohttp.ServerTimeoutError("no body data within the timeout"))
            return
        self._handle = self._loop.call_at(self._next_check(now), self._check)

    def cancel(self) -> None:
        self._handle.cancel()


def _env_proxy_for(host: str) -> str | None:
    """Return the proxy ``HTTPS_PROXY``/``HTTP_PROXY`` name for *host*, unless ``NO_PROXY``."""
    url = URL(host)
    if url.host is None or urllib.request.proxy_bypass(url.host):
        return None
    return urllib.request.getproxies().get(url.scheme)
