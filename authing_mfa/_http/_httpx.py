"""The httpx stack: for trio, and for callers who bring an httpx transport or client."""

from __future__ import annotations

__all__ = ["HttpxStack"]

import asyncio
import builtins
from collections.abc import Mapping

import anyio
import h11
import httpcore
import httpx

from authing_mfa._settings import Settings

from ._answer import (
    ACCEPT_ENCODING,
    MAX_BODY,
    Answer,
    check_body_size,
    read_answer,
    read_head,
)
from ._failures import Kind, OverBudget, check_request, kind_of, transport_error
from ._tls import tls_context
from ._watch import Watch

# What each library exception means (see `_failures`); the first match wins, and anything
# else an HTTP library raises is "unsendable".
_KINDS: tuple[tuple[tuple[type[BaseException], ...], Kind], ...] = (
    ((httpx.TimeoutException, httpcore.TimeoutException, builtins.TimeoutError), "timeout"),
    (
        (
            httpx.NetworkError,
            httpx.RemoteProtocolError,
            httpx.DecodingError,
            httpx.ProxyError,
            httpcore.NetworkError,
            httpcore.RemoteProtocolError,
            httpcore.ProxyError,
            h11.RemoteProtocolError,
            OSError,
        ),
        "connection",
    ),
)


# Methods whose requests announce no body when they have none, on both stacks.
_BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class HttpxStack:
    """Sends through an `httpx.AsyncClient`: ours (closed by `aclose`) or the caller's.

    Either way the answer is read raw (``Response.aiter_raw``) and decoded by `_answer`, so a
    caller's client that would decode brotli, say, changes nothing.
    """

    def __init__(self, settings: Settings) -> None:
        self._step = settings.retry.timeout
        # httpx bounds each read, not the answer: a head or body trickled a byte at a time
        # would hold a call for as long as the server likes. Under asyncio a `Watch` ends an
        # exchange that outlasts its budget (anyio's cancel scope cost 17 µs of CPU per call
        # in process, `python -m benchmarks --only cpu_mock`); under trio, a cancel scope.
        self._watch = Watch() if _running_asyncio() else None
        self._owned = settings.http_client is None
        self._client = settings.http_client or httpx.AsyncClient(
            transport=settings.transport,
            # The process's one context, not one loaded per client and event loop (`_tls`).
            verify=True if settings.transport is not None else tls_context(),
            limits=settings.limits,
            timeout=settings.retry.timeout,
            # A redirect to another host would carry the bearer token there.
            follow_redirects=False,
            headers={"accept-encoding": ACCEPT_ENCODING},
        )
        # A caller's client may accept brotli, say, which `_answer` does not decode.
        self._extra_headers = {} if self._owned else {"accept-encoding": ACCEPT_ENCODING}

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        budget: float,
    ) -> Answer:
        """Send a request through httpx; see `HttpStack.send`."""
        timeout = min(self._step, budget)
        watch = self._watch
        if watch is None:
            outcome = await self._exchange_in_scope(method, url, headers, body, timeout, budget)
            if isinstance(outcome, Answer):
                return outcome
            failure = outcome
        else:
            ticket = watch.watch(budget, budget)
            try:
                return await self._exchange(method, url, headers, body, timeout)
            except asyncio.CancelledError:
                if not ticket.expired():
                    raise
                failure = OverBudget(budget)
            except Exception as exc:  # noqa: BLE001 - every library error becomes ours, below
                # A library that the watch cancelled may raise an error of its own instead.
                failure = OverBudget(budget) if ticket.expired() else exc
            finally:
                watch.done(ticket)
        error = transport_error(kind_of(failure, _KINDS), failure, method, url, timeout)
        # Raised here, outside the except block, so it carries no __context__ either: the
        # library's exception holds the request, and its headers the token.
        raise error from None

    async def _exchange_in_scope(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
        budget: float,
    ) -> Answer | Exception:
        """Return the answer, or what failed, of an exchange bounded by a cancel scope (trio)."""
        scope = anyio.move_on_after(budget)
        try:
            with scope:
                return await self._exchange(method, url, headers, body, timeout)
        except Exception as exc:  # noqa: BLE001 - handed to `send`, which raises ours
            # A library that the scope cancelled may raise an error of its own instead.
            return OverBudget(budget) if scope.cancel_called else exc
        return OverBudget(budget)  # the scope ended the exchange

    async def _exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> Answer:
        check_request(url, headers)
        extra = self._extra_headers
        if body is None and method not in _BODILESS_METHODS:
            # aiohttp announces the empty body of a DELETE, as requests (Authing's Python
            # SDK) does; httpx would send no length. One wire for both stacks.
            extra = {**extra, "content-length": "0"}
        request = self._client.build_request(
            method,
            url,
            headers={**headers, **extra} if extra else headers,
            content=body,
            timeout=timeout,
        )
        response = await self._client.send(request, stream=True, follow_redirects=False)
        try:
            status, reason = response.status_code, response.reason_phrase
            headers = read_head(status, reason, response.headers.raw)
            if response.is_stream_consumed:
                # Built in memory by a transport (httpx.MockTransport, respx) and read, so
                # decoded, by httpx already: there are no bytes from a server to decode.
                return read_answer(status, reason, headers, response.content, decoded=True)
            chunks: list[bytes] = []
            size = 0
            # Read to the end (or the budget's) but kept only up to the limit: leaving httpx's
            # nested async generators unfinished would have trio warn as the collector closes
            # them.
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size <= MAX_BODY:
                    chunks.append(chunk)
            check_body_size(size)
            content = b"".join(chunks)
        finally:
            await response.aclose()
        return read_answer(status, reason, headers, content)

    async def aclose(self) -> None:
        """Close our client; a caller's stays open."""
        if self._watch is not None:
            self._watch.close()
        if self._owned:
            await self._client.aclose()


def _running_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio's
        return False
    return True
