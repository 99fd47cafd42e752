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
from typing import Any
from urllib.parse import urlencode

from ._envelope import decode, is_token_refusal, request_id_of
from ._errors import AuthenticationError
from ._hooks import RequestEvent, ResponseEvent, current_attempt
from ._http import HttpStack, Reply, open_stack
from ._loops import Clock, PerLoop
from ._protocol import ACCESS_TOKEN_QUERY, TOKEN_PATH
from ._retry import current_pacer
from ._settings import Settings
from ._token import Flight, ManagementTokens, StaticToken, TokenSource
from ._warmup import warm_up

logger = logging.getLogger("authing_mfa")

_Send = Callable[
    [
        "_LoopPart",
        str,
        str,
        dict[str, str],
        dict[str, str] | None,
        dict[str, object] | None,
        float,
    ],
    Awaitable[Reply],
]


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
        self._headers = settings.headers()
        self._authorized_headers: dict[str, str] = self._headers
        self._base = settings.host
        # What the first call would load on the event loop is loaded in a thread from now on.
        self._warm_up = warm_up(settings)
        self._loops: PerLoop[_LoopPart] = PerLoop(self._open_part, self._prepare)
        self._hooks = settings.hooks
        # Chosen once, so a client without hooks sends exactly as if hooks did not exist.
        self._sender: _Send = self._send if self._hooks is None else self._send_observed
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
    ) -> Any:  # noqa: ANN401 - the envelope's data is any JSON
        """Make one API call, with retries, and return the envelope's ``data``.

        *path* must already be percent-encoded.
        """
        part = self._loops.find() or await self._loops.open()
        observed = self._hooks is not None

        async def attempt(timeout: float, number: int) -> Any:  # noqa: ANN401
            if observed:
                current_attempt.set(number)
            token = await self.tokens.get(timeout, part.flight)
            try:
                return await self._authorized(part, token, method, path, params, json, timeout)
            except AuthenticationError as exc:
                if not (is_token_refusal(exc) and self.tokens.refused(token)):
                    raise
            token = await self.tokens.get(timeout, part.flight)
            return await self._authorized(part, token, method, path, params, json, timeout)

        return await self._retry.run(attempt, part.flight.clock.now, lambda: f"{method} {path}")

    async def _authorized(
        self,
        part: _LoopPart,
        token: str,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json: dict[str, object] | None,
        timeout: float,
    ) -> Any:  # noqa: ANN401
        headers = self._authorized_headers
        if headers.get("authorization") != f"Bearer {token}":
            # Built once per token, not per call: tokens live for days.
            headers = {**self._headers, "authorization": f"Bearer {token}"}
            self._authorized_headers = headers
        if (pacer := current_pacer.get()) is not None:
            await pacer.hold()
        response = await self._sender(part, method, path, headers, params, json, timeout)
        return decode(response)

    async def _fetch_token(self, timeout: float) -> Reply:
        secret = self._settings.secret
        if secret is None:  # pragma: no cover - a static token source never fetches
            raise RuntimeError("no secret to fetch a token with")
        variables = {"userPoolId": self._settings.user_pool_id, "secret": secret}
        part = self._loops.find() or await self._loops.open()
        if (pacer := current_pacer.get()) is not None:
            await pacer.hold()
        return await self._sender(
            part,
            "POST",
            TOKEN_PATH,
            self._headers,
            None,
            {"query": ACCESS_TOKEN_QUERY, "variables": variables},
            timeout,
        )

    async def _send(
        self,
        part: _LoopPart,
        method: str,
        path: str,
        headers: dict[str, str],
        params: dict[str, str] | None,
        json: dict[str, object] | None,
        timeout: float,
    ) -> Reply:
        url = self._base + path
        if params:
            url += "?" + urlencode(params)
        body = None
        if json is not None:
            body = dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
            headers = {**headers, "content-type": "application/json"}
        return await part.stack.send(method, url, headers, body, timeout)

    async def _send_observed(
        self,
        part: _LoopPart,
        method: str,
        path: str,
        headers: dict[str, str],
        params: dict[str, str] | None,
        json: dict[str, object] | None,
        timeout: float,
    ) -> Reply:
        """`_send`, reporting the request and its outcome to the client's hooks."""
        hooks = self._hooks
        assert hooks is not None  # noqa: S101 - chosen as the sender only with hooks
        request = RequestEvent(method=method, path=path, attempt=current_attempt.get())
        if hooks.on_request is not None:
            hooks.on_request(request)
        started = time.perf_counter()
        try:
            response = await self._send(part, method, path, headers, params, json, timeout)
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
