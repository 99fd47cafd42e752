"""The request pipeline every call goes through: headers, token, retries, hooks, errors.

One `Pipeline` serves one client. In each event loop it runs in, it opens an HTTP stack
(`_http`) and a token flight on first use (`_loops`), puts the common headers and the
management token on each request, replays a call once when the server refuses the token,
retries what may succeed later (`_retry`), reports each request to the client's hooks, and
turns Authing's envelopes into data or our exceptions (`_envelope`).

The token replay is here rather than in an `httpx.Auth` flow: Authing refuses a token with
HTTP 200 and code 2020 in the body, which this module decodes once anyway; an auth flow would
have to decode every body a second time to see it.
"""

from __future__ import annotations

__all__ = ["Pipeline"]

import logging
import time
from collections.abc import Awaitable, Callable
from json import dumps
from typing import Any, TypeVar
from urllib.parse import urlencode

from ._envelope import decode, is_token_refusal, request_id_of
from ._errors import AuthenticationError, AuthingMfaError
from ._hooks import RequestEvent, ResponseEvent, current_attempt
from ._http import HttpStack, Reply, open_stack
from ._loops import Clock, PerLoop
from ._protocol import ACCESS_TOKEN_QUERY, TOKEN_PATH
from ._retry import current_pacer
from ._settings import Settings
from ._token import Flight, ManagementTokens, StaticToken, TokenSource
from ._warmup import warm_up

logger = logging.getLogger("authing_mfa")

T = TypeVar("T")

_JSON_HEADER = {"content-type": "application/json"}


class _LoopPart:
    """What a pipeline keeps for one event loop: its HTTP stack and its token flight."""

    __slots__ = ("flight", "stack")

    def __init__(self, stack: HttpStack, flight: Flight) -> None:
        self.stack = stack
        self.flight = flight

    async def aclose(self) -> None:
        """Close the stack's connections; never raises (it runs as its loop ends)."""
        stack = self.stack
        try:
            await stack.aclose()
        except Exception:  # a pool that fails to close is gone all the same
            logger.debug("closing a connection pool failed", exc_info=True)


class Pipeline:
    """Sends one API call with everything Authing and a flaky network require.

    Lifetime: nothing is opened at construction, so a client can be built outside any event
    loop. Each loop a call runs in gets its own HTTP stack, opened on first use there and
    closed when that loop ends, or by `aclose` (a caller-supplied `httpx.AsyncClient` is
    never closed). The token is shared by every loop. All tasks of every loop may share a
    pipeline.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._retry = settings.retry
        self._total_timeout = settings.retry.total_timeout
        self._headers = settings.headers()
        self._token_headers = {**self._headers, **_JSON_HEADER}
        # (token, its headers, its headers for a JSON body): see `_headers_for`.
        self._authorized: tuple[str, dict[str, str], dict[str, str]] | None = None
        self._base = settings.host
        self._token_url = settings.host + TOKEN_PATH
        # What the first call would load on the event loop is loaded in a thread from now on.
        self._warm_up = warm_up(settings)
        self._loops: PerLoop[_LoopPart] = PerLoop(self._open_part, self._prepare)
        self._hooks = settings.hooks
        self.tokens: TokenSource = (
            StaticToken(settings.access_token)
            if settings.access_token is not None
            else ManagementTokens(self._fetch_token)
        )

    @property
    def closed(self) -> bool:
        """Whether `aclose` was called."""
        return self._loops.closed

    def stack(self) -> HttpStack | None:
        """Return the running loop's HTTP stack, once the first request in this loop opened it."""
        part = self._loops.find()
        return None if part is None else part.stack

    def _open_part(self, clock: Clock) -> _LoopPart:
        return _LoopPart(open_stack(self._settings), Flight(clock))

    async def _prepare(self) -> None:
        if self._warm_up is not None:
            await self._warm_up.wait()
            self._warm_up = None

    async def aclose(self) -> None:
        """Close the running loop's connection pool, and have every other loop close its own.

        A caller-supplied ``http_client`` is left open.
        """
        await self._loops.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, object] | None = None,
        read: Callable[[Any], T],
    ) -> T:
        """Make one API call, with retries, and return ``read(data)`` of its envelope's ``data``.

        *path* must already be percent-encoded. *read* is applied once, to the answer the call
        ends with: a record it cannot build raises out of the call, never retried.
        """
        part = self._loops.find() or await self._loops.open()
        url = self._base + path
        if params:
            url += "?" + urlencode(params)
        body = None
        if json is not None:
            body = dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
        started = None
        first: tuple[str, AuthingMfaError] | None = None
        pacer = current_pacer.get()
        if (
            self._hooks is None
            and (pacer is None or pacer.open)
            and (token := self.tokens.fresh(part.flight)) is not None
        ):
            # The usual call (a cached token, no hooks, no bulk run's pacer holding anything
            # back) sends its first request from here rather than through the retry loop's
            # two coroutines, and goes on there only if it fails. Measured: 1.5 µs of CPU less
            # per call in process (`python -m benchmarks --only cpu_mock`), more under
            # concurrency.
            started = part.flight.clock.now()
            headers = self._headers_for(token, body is not None)
            try:
                data = decode(
                    await part.stack.send(method, url, headers, body, self._total_timeout)
                )
            except AuthingMfaError as exc:
                first = (token, exc)
            else:
                return read(data)
        attempt = self._attempt(part, method, path, url, body, first)
        data = await self._retry.run(
            attempt, part.flight.clock.now, lambda: f"{method} {path}", started=started
        )
        return read(data)

    def _attempt(
        self,
        part: _LoopPart,
        method: str,
        path: str,
        url: str,
        body: bytes | None,
        first: tuple[str, AuthingMfaError] | None,
    ) -> Callable[[float, int], Awaitable[Any]]:
        """Return the attempt the retry loop makes: send, and replay once if the token is refused.

        *first* is the token and the error of the call's first request when `request` sent it
        itself: the first attempt then starts from that error instead of sending again.
        """
        tokens = self.tokens
        flight = part.flight
        now = flight.clock.now
        observed = self._hooks is not None

        async def attempt(budget: float, number: int) -> Any:  # noqa: ANN401
            # Every request of the attempt (a token fetch, the call, its replay with a new
            # token) shares the one budget: each gets what the ones before it left.
            end = now() + budget
            if observed:
                current_attempt.set(number)
            if first is not None and number == 1:
                token, exc = first
                if not isinstance(exc, AuthenticationError):
                    raise exc
            else:
                token = tokens.fresh(flight) or await tokens.get(budget, flight)
                try:
                    return decode(
                        await self._send(part, token, method, path, url, body, end - now())
                    )
                except AuthenticationError as error:
                    exc = error
            if not (is_token_refusal(exc) and tokens.refused(token)):
                raise exc
            token = await tokens.get(end - now(), flight)
            return decode(await self._send(part, token, method, path, url, body, end - now()))

        return attempt

    def _send(
        self,
        part: _LoopPart,
        token: str | None,
        method: str,
        path: str,
        url: str,
        body: bytes | None,
        budget: float,
    ) -> Awaitable[Reply]:
        """Send one request with the headers for *token* (none: the token request's own).

        The exchange may take *budget* seconds (see `HttpStack.send`).

        A plain function returning the stack's awaitable, so the usual request, with no hooks
        and no pacer, costs no coroutine of its own (measured: each layer of coroutines adds
        about a microsecond to every call on the event loop).
        """
        headers = self._headers_for(token, body is not None)
        if self._hooks is None and current_pacer.get() is None:
            return part.stack.send(method, url, headers, body, budget)
        return self._send_paced_or_observed(part, method, path, url, headers, body, budget)

    def _headers_for(self, token: str | None, json: bool) -> dict[str, str]:  # noqa: FBT001
        """Return the headers of a request: built once per token, not per call."""
        if token is None:
            return self._token_headers
        cached = self._authorized
        if cached is None or cached[0] != token:
            plain = {**self._headers, "authorization": f"Bearer {token}"}
            cached = self._authorized = (token, plain, {**plain, **_JSON_HEADER})
        return cached[2] if json else cached[1]

    async def _fetch_token(self, budget: float) -> Reply:
        secret = self._settings.secret
        if secret is None:  # pragma: no cover - a static token source never fetches
            raise RuntimeError("no secret to fetch a token with")
        variables = {"userPoolId": self._settings.user_pool_id, "secret": secret}
        query = {"query": ACCESS_TOKEN_QUERY, "variables": variables}
        body = dumps(query, ensure_ascii=False, separators=(",", ":")).encode()
        part = self._loops.find() or await self._loops.open()
        return await self._send(part, None, "POST", TOKEN_PATH, self._token_url, body, budget)

    async def _send_paced_or_observed(
        self,
        part: _LoopPart,
        method: str,
        path: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        budget: float,
    ) -> Reply:
        """Send a request through a bulk run's pacer or the client's hooks, or both.

        Time held back by the pacer's pause does not count against *budget*.
        """
        if (pacer := current_pacer.get()) is not None:
            await pacer.hold()
        if self._hooks is None:
            return await part.stack.send(method, url, headers, body, budget)
        return await self._send_observed(part, method, path, url, headers, body, budget)

    async def _send_observed(
        self,
        part: _LoopPart,
        method: str,
        path: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        budget: float,
    ) -> Reply:
        """Send a request, reporting it and its outcome to the client's hooks."""
        hooks = self._hooks
        assert hooks is not None  # noqa: S101 - chosen as the sender only with hooks
        request = RequestEvent(method=method, path=path, attempt=current_attempt.get())
        if hooks.on_request is not None:
            hooks.on_request(request)
        started = time.perf_counter()
        try:
            response = await part.stack.send(method, url, headers, body, budget)
        except BaseException as exc:  # a TransportError, or the call's cancellation
            if hooks.on_response is not None:
                elapsed = time.perf_counter() - started
                hooks.on_response(ResponseEvent(request, None, elapsed, None, exc))
            raise
        if hooks.on_response is not None:
            elapsed = time.perf_counter() - started
            status, request_id = response.status_code, request_id_of(response)
            hooks.on_response(ResponseEvent(request, status, elapsed, request_id))
        return response
